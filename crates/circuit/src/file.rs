//! The circuit file: classes of heads, the position where each class acts, optional variants
//! (a subset named by the heads it drops) and optional true edges between classes. Parsed and
//! checked here, with a message naming the entry that is wrong; checked against a model's size
//! by [`Circuit::check_fits`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;

pub use crate::error::CircuitError;

/// The version of the format this code reads.
pub const FORMAT_VERSION: u64 = 1;
/// Larger files are refused before parsing (the IOI circuit's is 4 KB).
pub const MAX_CIRCUIT_BYTES: usize = 1 << 20;
pub const MAX_CLASSES: usize = 64;
pub const MAX_VARIANTS: usize = 16;
pub const MAX_EDGES: usize = 1024;
/// Heads over all classes (GPT-2 XL has 1,200).
pub const MAX_HEADS: usize = 4096;
pub const MAX_NAME_CHARS: usize = 80;

/// The ends of a true edge that are not classes.
pub const INPUT: &str = "INPUT";
pub const OUTPUT: &str = "OUTPUT";

/// A head, `(layer, head)`, 0-based.
pub type HeadId = (usize, usize);

/// Where in a prompt a class of heads acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Position {
    /// The last token (where the answer is predicted).
    End,
    /// The subject's first mention.
    S1,
    /// The subject's second mention.
    S2,
    /// The token after the subject's first mention.
    S1Plus1,
    /// The indirect object's mention.
    Io,
    /// A token index (0 = the first token, BOS where there is one).
    Index(usize),
}

impl Position {
    pub const NAMED: [Position; 5] = [
        Position::End,
        Position::S1,
        Position::S2,
        Position::S1Plus1,
        Position::Io,
    ];

    /// `END`, `S1`, `S2`, `S1+1`, `IO` (case as written) or a token index.
    pub fn parse(s: &str) -> Option<Position> {
        Position::NAMED
            .into_iter()
            .find(|p| p.to_string() == s)
            .or_else(|| s.parse().ok().map(Position::Index))
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::End => f.write_str("END"),
            Position::S1 => f.write_str("S1"),
            Position::S2 => f.write_str("S2"),
            Position::S1Plus1 => f.write_str("S1+1"),
            Position::Io => f.write_str("IO"),
            Position::Index(i) => write!(f, "{i}"),
        }
    }
}

/// A class of heads with one role, acting at one position.
#[derive(Clone, Debug, PartialEq)]
pub struct CircuitClass {
    pub name: String,
    pub acts_at: Position,
    pub heads: Vec<HeadId>,
}

/// A named subset of the circuit: all its heads but `drop`.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: String,
    pub note: String,
    pub drop: Vec<HeadId>,
}

/// A connection the circuit is known to have: from a class (or `INPUT`) to a class (or
/// `OUTPUT`), into the receiving heads' `inputs` (some of `q`, `k`, `v`; empty for `OUTPUT`).
#[derive(Clone, Debug, PartialEq)]
pub struct TrueEdge {
    pub from: String,
    pub to: String,
    pub inputs: String,
}

/// A known circuit.
#[derive(Clone, Debug, PartialEq)]
pub struct Circuit {
    /// Free text, for the record: the model it was found in, the task, its sources.
    pub model: String,
    pub task: String,
    pub source: String,
    pub classes: Vec<CircuitClass>,
    pub variants: Vec<Variant>,
    pub true_edges: Vec<TrueEdge>,
    /// Published node ROC AUCs of other methods against this circuit, `(method, AUC)`, shown
    /// beside ours for reference.
    pub published: Vec<(String, f64)>,
}

#[derive(Deserialize)]
struct RawCircuit {
    format_version: Option<u64>,
    #[serde(default)]
    model: String,
    #[serde(default)]
    task: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    classes: Vec<RawClass>,
    strict_variant: Option<RawVariant>,
    #[serde(default)]
    variants: Vec<RawVariant>,
    true_edges: Option<RawEdges>,
    published_scores: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct RawClass {
    name: String,
    acts_at: serde_json::Value,
    heads: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawVariant {
    name: Option<String>,
    #[serde(default)]
    note: String,
    drop: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawEdges {
    edges: Vec<(String, String, String)>,
}

fn check_name(name: &str, entry: impl FnOnce() -> String) -> Result<(), CircuitError> {
    let n = name.trim().chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(CircuitError::BadName { entry: entry() });
    }
    Ok(())
}

fn head(v: &serde_json::Value, entry: impl Fn() -> String) -> Result<HeadId, CircuitError> {
    let bad = || CircuitError::BadHead {
        entry: entry(),
        given: v.to_string(),
    };
    let pair = v.as_array().filter(|a| a.len() == 2).ok_or_else(bad)?;
    let index = |x: &serde_json::Value| x.as_u64().and_then(|u| usize::try_from(u).ok());
    match (index(&pair[0]), index(&pair[1])) {
        (Some(l), Some(h)) => Ok((l, h)),
        _ => Err(bad()),
    }
}

fn class(raw: RawClass) -> Result<CircuitClass, CircuitError> {
    check_name(&raw.name, || "a class".into())?;
    let name = raw.name.trim().to_string();
    let acts_at = match &raw.acts_at {
        serde_json::Value::String(s) => Position::parse(s.trim()),
        serde_json::Value::Number(n) => n
            .as_u64()
            .and_then(|u| usize::try_from(u).ok())
            .map(Position::Index),
        _ => None,
    }
    .ok_or_else(|| CircuitError::UnknownPosition {
        class: name.clone(),
        given: match &raw.acts_at {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    })?;
    if raw.heads.is_empty() {
        return Err(CircuitError::EmptyClass(name));
    }
    if raw.heads.len() > MAX_HEADS {
        return Err(CircuitError::TooMany {
            what: "heads in one class",
            found: raw.heads.len(),
            max: MAX_HEADS,
        });
    }
    let heads = raw
        .heads
        .iter()
        .map(|h| head(h, || format!("class “{name}”")))
        .collect::<Result<_, _>>()?;
    Ok(CircuitClass {
        name,
        acts_at,
        heads,
    })
}

impl Circuit {
    /// Parses and checks a circuit file (its size, the JSON, names, positions, heads, no head
    /// twice, variants and edges naming what exists).
    pub fn parse(bytes: &[u8]) -> Result<Circuit, CircuitError> {
        if bytes.len() > MAX_CIRCUIT_BYTES {
            return Err(CircuitError::TooLarge { bytes: bytes.len() });
        }
        let raw: RawCircuit =
            serde_json::from_slice(bytes).map_err(|e| CircuitError::Json(e.to_string()))?;
        match raw.format_version {
            Some(FORMAT_VERSION) | None => {}
            Some(found) => return Err(CircuitError::Version { found }),
        }
        if raw.classes.is_empty() {
            return Err(CircuitError::NoClasses);
        }
        let too_many = |what, found, max| CircuitError::TooMany { what, found, max };
        if raw.classes.len() > MAX_CLASSES {
            return Err(too_many("classes", raw.classes.len(), MAX_CLASSES));
        }
        let total: usize = raw.classes.iter().map(|c| c.heads.len()).sum();
        if total > MAX_HEADS {
            return Err(too_many("heads", total, MAX_HEADS));
        }
        let classes: Vec<CircuitClass> = raw
            .classes
            .into_iter()
            .map(class)
            .collect::<Result<_, _>>()?;
        let mut owner: BTreeMap<HeadId, &str> = BTreeMap::new();
        let mut names = BTreeSet::new();
        for c in &classes {
            if !names.insert(c.name.as_str()) {
                return Err(CircuitError::DuplicateClass(c.name.clone()));
            }
            for &h in &c.heads {
                if let Some(first) = owner.insert(h, &c.name) {
                    return Err(CircuitError::DuplicateHead {
                        head: h,
                        first: first.to_string(),
                        second: c.name.clone(),
                    });
                }
            }
        }
        let variants = variants(raw.strict_variant, raw.variants, &owner)?;
        let true_edges = match raw.true_edges {
            Some(e) => edges(e.edges, &names)?,
            None => Vec::new(),
        };
        Ok(Circuit {
            model: raw.model,
            task: raw.task,
            source: raw.source,
            classes,
            variants,
            true_edges,
            published: published(raw.published_scores),
        })
    }

    /// Refuses a circuit with a head outside a model of `layers` × `heads`.
    pub fn check_fits(&self, layers: usize, heads: usize) -> Result<(), CircuitError> {
        for c in &self.classes {
            if let Some(&head) = c.heads.iter().find(|h| h.0 >= layers || h.1 >= heads) {
                return Err(CircuitError::OutsideModel {
                    class: c.name.clone(),
                    head,
                    layers,
                    heads,
                });
            }
        }
        Ok(())
    }

    /// Every head of the circuit.
    pub fn heads(&self) -> impl Iterator<Item = HeadId> + '_ {
        self.classes.iter().flat_map(|c| c.heads.iter().copied())
    }

    pub fn size(&self) -> usize {
        self.classes.iter().map(|c| c.heads.len()).sum()
    }

    /// The class of `head`, if the circuit has it.
    pub fn class_of(&self, head: HeadId) -> Option<(usize, &CircuitClass)> {
        self.classes
            .iter()
            .enumerate()
            .find(|(_, c)| c.heads.contains(&head))
    }
}

/// `{"method": {"nodes": auc, …}, "note": …}`: the node AUCs in [0, 1] (other entries are
/// notes or edge scores).
fn published(raw: Option<serde_json::Map<String, serde_json::Value>>) -> Vec<(String, f64)> {
    raw.into_iter()
        .flatten()
        .filter_map(|(name, v)| {
            let auc = v
                .get("nodes")?
                .as_f64()
                .filter(|a| (0.0..=1.0).contains(a))?;
            let name: String = name.chars().take(MAX_NAME_CHARS).collect();
            Some((name, auc))
        })
        .take(MAX_VARIANTS)
        .collect()
}

fn variants(
    strict: Option<RawVariant>,
    more: Vec<RawVariant>,
    owner: &BTreeMap<HeadId, &str>,
) -> Result<Vec<Variant>, CircuitError> {
    let raw: Vec<RawVariant> = strict.into_iter().chain(more).collect();
    if raw.len() > MAX_VARIANTS {
        return Err(CircuitError::TooMany {
            what: "variants",
            found: raw.len(),
            max: MAX_VARIANTS,
        });
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, v)| {
            // The first format named one variant, `strict_variant`.
            let name = v.name.unwrap_or_else(|| {
                if i == 0 {
                    "strict".into()
                } else {
                    String::new()
                }
            });
            check_name(&name, || format!("variant {i}"))?;
            let name = name.trim().to_string();
            let drop = v
                .drop
                .iter()
                .map(|h| head(h, || format!("variant “{name}”")))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(&head) = drop.iter().find(|h| !owner.contains_key(h)) {
                return Err(CircuitError::VariantHead {
                    variant: name,
                    head,
                });
            }
            Ok(Variant {
                name,
                note: v.note,
                drop,
            })
        })
        .collect()
}

fn edges(
    raw: Vec<(String, String, String)>,
    classes: &BTreeSet<&str>,
) -> Result<Vec<TrueEdge>, CircuitError> {
    if raw.len() > MAX_EDGES {
        return Err(CircuitError::TooMany {
            what: "true edges",
            found: raw.len(),
            max: MAX_EDGES,
        });
    }
    raw.into_iter()
        .enumerate()
        .map(|(index, (from, to, inputs))| {
            for (name, end) in [(&from, INPUT), (&to, OUTPUT)] {
                if name != end && !classes.contains(name.as_str()) {
                    return Err(CircuitError::EdgeEnd {
                        index,
                        name: name.clone(),
                    });
                }
            }
            let ok = if to == OUTPUT {
                inputs.is_empty()
            } else {
                !inputs.is_empty() && inputs.chars().all(|c| matches!(c, 'q' | 'k' | 'v'))
            };
            if !ok {
                return Err(CircuitError::EdgeInputs {
                    index,
                    given: inputs,
                });
            }
            Ok(TrueEdge { from, to, inputs })
        })
        .collect()
}
