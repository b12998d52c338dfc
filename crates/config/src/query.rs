//! `key=value&…` reading and writing, percent-encoded (UTF-8).

use gradpatch_terms::{Backend, Component, Corruption, PromptPair};

use crate::{
    MAX_PROMPTS, MAX_STEPS, ModelChoice, ModelUrl, PageState, ResultsLink, Tab, Task, Warning,
};

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` and `+` (as a space); `None` when the result is not UTF-8 or an escape is
/// broken.
pub fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn flag(v: &str) -> Option<bool> {
    match v {
        "1" | "true" | "on" => Some(true),
        "0" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// Most custom pairs a link or the text box may hold.
pub const MAX_PAIRS: usize = 256;
/// Longest field of a custom pair, in characters.
pub const MAX_FIELD_CHARS: usize = 500;

/// Custom pairs as read, and what was left out of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedPairs {
    pub pairs: Vec<PromptPair>,
    /// Why lines were dropped (too many pairs, a field too long), for a warning.
    pub dropped: Option<String>,
}

/// Custom pairs travel as lines of `clean|corrupted|correct|incorrect`. At most
/// [`MAX_PAIRS`] are kept and a pair with a field over [`MAX_FIELD_CHARS`] is dropped (a link
/// can hold anything); `dropped` says so.
pub fn parse_pairs(v: &str) -> Result<ParsedPairs, String> {
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
            return Err(format!(
                "line {} has {} fields; expected clean|corrupted|correct|incorrect",
                i + 1,
                parts.len()
            ));
        };
        if let Some(long) = parts.iter().find(|p| p.chars().count() > MAX_FIELD_CHARS) {
            dropped.push(format!(
                "line {} dropped: a field of {} characters (at most {MAX_FIELD_CHARS})",
                i + 1,
                long.chars().count()
            ));
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
        dropped.push(format!(
            "only the first {MAX_PAIRS} pairs are used ({extra} more given)"
        ));
    }
    if pairs.is_empty() {
        return Err(dropped.pop().unwrap_or_else(|| "no prompt pairs".into()));
    }
    Ok(ParsedPairs {
        pairs,
        dropped: (!dropped.is_empty()).then(|| dropped.join("; ")),
    })
}

pub fn pairs_text(pairs: &[PromptPair]) -> String {
    pairs
        .iter()
        .map(|p| format!("{}|{}|{}|{}", p.clean, p.corrupted, p.correct, p.incorrect))
        .collect::<Vec<_>>()
        .join("\n")
}

fn number<T>(v: &str, lo: T, hi: T, what: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match v.parse::<T>() {
        Ok(x) if x >= lo && x <= hi => Ok(x),
        _ => Err(format!("expected {what} from {lo} to {hi}")),
    }
}

pub fn parse(query: &str) -> (PageState, Vec<Warning>) {
    let mut s = PageState::default();
    let mut warnings = Vec::new();
    let (mut n, mut seed, mut corrupt) = (8usize, 0u64, Corruption::Aba);
    let mut custom: Option<Vec<PromptPair>> = None;
    let mut task_custom = false;
    for part in query.trim_start_matches('?').split('&') {
        if part.is_empty() {
            continue;
        }
        let (raw_key, raw_value) = part.split_once('=').unwrap_or((part, ""));
        let key = decode_component(raw_key).unwrap_or_else(|| raw_key.to_string());
        let Some(v) = decode_component(raw_value) else {
            warnings.push(Warning {
                key,
                message: "the value is not valid percent-encoded UTF-8".into(),
            });
            continue;
        };
        let result: Result<(), String> = match key.as_str() {
            "results" => ResultsLink::parse(&v).map(|r| s.results = Some(r)),
            "model" => match v.as_str() {
                "gpt2" => {
                    s.model = ModelChoice::Gpt2;
                    Ok(())
                }
                "bundled" => {
                    s.model = ModelChoice::Bundled;
                    Ok(())
                }
                u if u.contains("://") => ModelUrl::parse(u).map(|u| s.model = ModelChoice::Url(u)),
                _ => Err("expected gpt2, bundled or an https:// URL".into()),
            },
            "processing" => flag(&v)
                .map(|b| s.processing = b)
                .ok_or_else(|| "expected 1 or 0".to_string()),
            "backend" => v.parse().map(|b| s.backend = b),
            "task" => match v.as_str() {
                "ioi" => {
                    task_custom = false;
                    Ok(())
                }
                "custom" => {
                    task_custom = true;
                    Ok(())
                }
                _ => Err("expected ioi or custom".into()),
            },
            "n" => number(&v, 1, MAX_PROMPTS, "a prompt count").map(|x| n = x),
            "seed" => number(&v, 0, u64::MAX, "a seed").map(|x| seed = x),
            "corrupt" => v.parse().map(|c| corrupt = c),
            "pairs" => parse_pairs(&v).map(|p| {
                if let Some(message) = p.dropped {
                    warnings.push(Warning {
                        key: "pairs".into(),
                        message,
                    });
                }
                custom = Some(p.pairs);
            }),
            "ig" => flag(&v)
                .map(|b| s.methods.ig = b)
                .ok_or_else(|| "expected 1 or 0".to_string()),
            "ap" => flag(&v)
                .map(|b| s.methods.ap = b)
                .ok_or_else(|| "expected 1 or 0".to_string()),
            "atp" => flag(&v)
                .map(|b| s.methods.atp = b)
                .ok_or_else(|| "expected 1 or 0".to_string()),
            "pos" => flag(&v)
                .map(|b| s.positions = b)
                .ok_or_else(|| "expected 1 or 0".to_string()),
            "pair" => v.parse().map(|x| s.view.pair = x),
            "steps" => number(&v, 1, MAX_STEPS, "a step count").map(|x| s.ig_steps = x),
            "quad" => v.parse().map(|x| s.ig_method = x),
            "baseline" => v.parse().map(|x| s.ig_baseline = x),
            "dir" => v.parse().map(|x| s.ap_direction = x),
            "pct" => match v.parse::<f64>() {
                Ok(p) if p > 0.0 && p < 1.0 => {
                    s.percentile = p;
                    Ok(())
                }
                _ => Err("expected a quantile between 0 and 1, e.g. 0.9".into()),
            },
            "tab" => Tab::ALL
                .iter()
                .find(|t| t.key() == v)
                .map(|t| s.view.tab = *t)
                .ok_or_else(|| {
                    let keys: Vec<&str> = Tab::ALL.iter().map(|t| t.key()).collect();
                    format!("expected one of {}", keys.join(", "))
                }),
            "prompt" => match v.as_str() {
                "mean" => {
                    s.view.prompt = None;
                    Ok(())
                }
                _ => number(&v, 0, MAX_PROMPTS - 1, "a prompt index")
                    .map(|i| s.view.prompt = Some(i)),
            },
            "sel" => Component::parse(&v)
                .map(|x| s.view.selection = Some(x))
                .ok_or_else(|| "expected a head like L9H6 or a neuron like L0N42".to_string()),
            _ => Err("unknown parameter".into()),
        };
        if let Err(message) = result {
            warnings.push(Warning { key, message });
        }
    }
    s.task = match (task_custom, custom) {
        (true, Some(pairs)) => Task::Custom(pairs),
        (true, None) => {
            warnings.push(Warning {
                key: "task".into(),
                message: "custom needs `pairs`; using IOI prompts".into(),
            });
            Task::Ioi { n, seed, corrupt }
        }
        (false, _) => Task::Ioi { n, seed, corrupt },
    };
    (s, warnings)
}

pub fn write(s: &PageState) -> String {
    let d = PageState::default();
    let mut kv: Vec<(&str, String)> = Vec::new();
    if let Some(r) = &s.results {
        kv.push(("results", r.to_string()));
    }
    match &s.model {
        ModelChoice::Gpt2 => {}
        ModelChoice::Bundled => kv.push(("model", "bundled".into())),
        ModelChoice::Url(u) => kv.push(("model", u.to_string())),
    }
    if s.processing != d.processing {
        kv.push(("processing", "0".into()));
    }
    if s.backend != Backend::Auto {
        kv.push(("backend", s.backend.key().into()));
    }
    match &s.task {
        Task::Ioi { n, seed, corrupt } => {
            kv.push(("n", n.to_string()));
            kv.push(("seed", seed.to_string()));
            if *corrupt != Corruption::Aba {
                kv.push(("corrupt", corrupt.key().into()));
            }
        }
        Task::Custom(pairs) => {
            kv.push(("task", "custom".into()));
            kv.push(("pairs", pairs_text(pairs)));
        }
    }
    let bool01 = |b: bool| if b { "1" } else { "0" }.to_string();
    if s.methods.ig != d.methods.ig {
        kv.push(("ig", bool01(s.methods.ig)));
    }
    if s.methods.ap != d.methods.ap {
        kv.push(("ap", bool01(s.methods.ap)));
    }
    if s.methods.atp != d.methods.atp {
        kv.push(("atp", bool01(s.methods.atp)));
    }
    if s.positions != d.positions {
        kv.push(("pos", bool01(s.positions)));
    }
    if s.ig_steps != d.ig_steps {
        kv.push(("steps", s.ig_steps.to_string()));
    }
    if s.ig_method != d.ig_method {
        kv.push(("quad", s.ig_method.key().into()));
    }
    if s.ig_baseline != d.ig_baseline {
        kv.push(("baseline", s.ig_baseline.key().into()));
    }
    if s.ap_direction != d.ap_direction {
        kv.push(("dir", s.ap_direction.key().into()));
    }
    if s.percentile != d.percentile {
        kv.push(("pct", s.percentile.to_string()));
    }
    kv.push(("tab", s.view.tab.key().into()));
    if s.view.pair != d.view.pair {
        kv.push(("pair", s.view.pair.key().into()));
    }
    if let Some(p) = s.view.prompt {
        kv.push(("prompt", p.to_string()));
    }
    if let Some(sel) = s.view.selection {
        kv.push(("sel", sel.to_string()));
    }
    kv.iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}
