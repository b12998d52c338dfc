//! The IOI positions of a prompt pair, found from its tokens and answers: END (the last token),
//! S1 and S2 (the subject's two mentions; the subject is the wrong answer), S1+1, and IO (the
//! indirect object's mention; the right answer). Works for any pair with that structure, custom
//! ones included, and says why when a pair does not have it.

use gradpatch_study::PromptRecord;

use crate::file::Position;

/// Where the named positions are in one prompt (token indices, BOS included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoiPositions {
    pub end: usize,
    /// The subject's two mentions, or why they could not be found.
    pub subject: Result<(usize, usize), Missing>,
    pub io: Result<usize, Missing>,
}

/// Why a named position is not in a prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// The name is mentioned `found` times before the last token (the subject needs 2, the
    /// indirect object 1).
    Mentions { found: usize },
    /// A token index beyond the prompt.
    Beyond { len: usize },
    /// An empty prompt.
    Empty,
}

impl IoiPositions {
    /// Locates the positions in `prompt`: a token is a mention of an answer when it is the
    /// answer's token, or (a name at the start of a sentence is another token) has the same
    /// text but for spaces.
    pub fn locate(prompt: &PromptRecord) -> Result<IoiPositions, Missing> {
        let ids = &prompt.clean_token_ids;
        let end = ids.len().checked_sub(1).ok_or(Missing::Empty)?;
        let texts = prompt.token_texts();
        let mentions = |id: u32, text: &str| -> Vec<usize> {
            let text = text.trim();
            (0..end)
                .filter(|&i| {
                    ids[i] == id
                        || (!text.is_empty() && texts.get(i).is_some_and(|t| t.trim() == text))
                })
                .collect()
        };
        let s = mentions(prompt.labels[1], &prompt.pair.incorrect);
        let io = mentions(prompt.labels[0], &prompt.pair.correct);
        Ok(IoiPositions {
            end,
            subject: match s.as_slice() {
                [s1, s2] if s1 + 1 < end => Ok((*s1, *s2)),
                other => Err(Missing::Mentions { found: other.len() }),
            },
            io: match io.as_slice() {
                [io] => Ok(*io),
                other => Err(Missing::Mentions { found: other.len() }),
            },
        })
    }

    /// The token index of `position` in this prompt.
    pub fn index(&self, position: Position) -> Result<usize, Missing> {
        match position {
            Position::End => Ok(self.end),
            Position::S1 => self.subject.map(|s| s.0),
            Position::S2 => self.subject.map(|s| s.1),
            Position::S1Plus1 => self.subject.map(|s| s.0 + 1),
            Position::Io => self.io,
            Position::Index(i) if i <= self.end => Ok(i),
            Position::Index(_) => Err(Missing::Beyond { len: self.end + 1 }),
        }
    }
}

impl Missing {
    /// Why `position` is missing from prompt `prompt`, in words.
    pub fn explain(&self, position: Position, prompt: usize) -> String {
        match (self, position) {
            (Missing::Mentions { found }, Position::Io) => format!(
                "prompt {prompt}: the right answer is mentioned {found} times before the last token (IO needs exactly one mention)"
            ),
            (Missing::Mentions { found }, _) => format!(
                "prompt {prompt}: the wrong answer (the subject) is mentioned {found} times before the last token ({position} needs exactly two mentions, S1 and S2, S1 not just before the end)"
            ),
            (Missing::Beyond { len }, _) => {
                format!("prompt {prompt}: token {position} is beyond its {len} tokens")
            }
            (Missing::Empty, _) => format!("prompt {prompt} has no tokens"),
        }
    }
}
