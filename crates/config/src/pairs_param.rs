//! The `pairs` parameter: custom prompt pairs as lines `clean|corrupted|correct|incorrect`,
//! bounded in number and length (what was left out is reported), and back.

use std::fmt;

use gradpatch_terms::PromptPair;

/// Most custom pairs a link or the text box may hold.
pub const MAX_PAIRS: usize = 256;
/// Longest field of a custom pair, in characters.
pub const MAX_FIELD_CHARS: usize = 500;

/// A line of custom pairs that was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Line `line` (from 1) has a field of `chars` characters.
    LongField { line: usize, chars: usize },
    /// `extra` pairs after the first [`MAX_PAIRS`].
    TooMany { extra: usize },
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dropped::LongField { line, chars } => write!(
                f,
                "line {line} dropped: a field of {chars} characters (at most {MAX_FIELD_CHARS})"
            ),
            Dropped::TooMany { extra } => write!(
                f,
                "only the first {MAX_PAIRS} pairs are used ({extra} more given)"
            ),
        }
    }
}

/// Custom pairs that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PairsError {
    /// Line `line` (from 1) has `fields` fields instead of four.
    Fields { line: usize, fields: usize },
    /// No pair is left: why the last line went.
    NoneLeft(Option<Dropped>),
}

impl fmt::Display for PairsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PairsError::Fields { line, fields } => write!(
                f,
                "line {line} has {fields} fields; expected clean|corrupted|correct|incorrect"
            ),
            PairsError::NoneLeft(Some(why)) => why.fmt(f),
            PairsError::NoneLeft(None) => f.write_str("no prompt pairs"),
        }
    }
}

impl std::error::Error for PairsError {}

/// Custom pairs as read, and what was left out of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedPairs {
    pub pairs: Vec<PromptPair>,
    /// Lines dropped (too many pairs, a field too long), for a warning.
    pub dropped: Vec<Dropped>,
}

impl ParsedPairs {
    /// What was left out, as one warning; `None` when nothing was.
    pub fn dropped_text(&self) -> Option<String> {
        let texts: Vec<String> = self.dropped.iter().map(ToString::to_string).collect();
        (!texts.is_empty()).then(|| texts.join("; "))
    }
}

/// Custom pairs travel as lines of `clean|corrupted|correct|incorrect`. At most
/// [`MAX_PAIRS`] are kept and a pair with a field over [`MAX_FIELD_CHARS`] is dropped (a link
/// can hold anything); `dropped` says so.
pub fn parse_pairs(v: &str) -> Result<ParsedPairs, PairsError> {
    let mut pairs = Vec::new();
    let mut dropped = Vec::new();
    let mut extra = 0usize;
    for (i, line) in v.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        if pairs.len() == MAX_PAIRS {
            extra += 1;
            continue;
        }
        let parts: Vec<&str> = line.split('|').collect();
        let [clean, corrupted, correct, incorrect] = parts[..] else {
            return Err(PairsError::Fields {
                line: i + 1,
                fields: parts.len(),
            });
        };
        if let Some(long) = parts.iter().find(|p| p.chars().count() > MAX_FIELD_CHARS) {
            dropped.push(Dropped::LongField {
                line: i + 1,
                chars: long.chars().count(),
            });
            continue;
        }
        pairs.push(PromptPair {
            clean: clean.to_string(),
            corrupted: corrupted.to_string(),
            correct: correct.to_string(),
            incorrect: incorrect.to_string(),
        });
    }
    if extra > 0 {
        dropped.push(Dropped::TooMany { extra });
    }
    if pairs.is_empty() {
        return Err(PairsError::NoneLeft(dropped.pop()));
    }
    Ok(ParsedPairs { pairs, dropped })
}

pub fn pairs_text(pairs: &[PromptPair]) -> String {
    pairs
        .iter()
        .map(|p| format!("{}|{}|{}|{}", p.clean, p.corrupted, p.correct, p.incorrect))
        .collect::<Vec<_>>()
        .join("\n")
}
