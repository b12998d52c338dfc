//! A head or a neuron of the model, as links, charts and scores name it (`L9H6`, `L0N42`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// One attention head or MLP neuron: the unit both methods score and the page selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Component {
    Head { layer: usize, head: usize },
    Neuron { layer: usize, neuron: usize },
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Component::Head { layer, head } => write!(f, "L{layer}H{head}"),
            Component::Neuron { layer, neuron } => write!(f, "L{layer}N{neuron}"),
        }
    }
}

impl Component {
    /// Parses `L5H3` or `L5N123`.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix('L')?;
        let split = rest.find(['H', 'N'])?;
        let layer = rest[..split].parse().ok()?;
        let index = rest[split + 1..].parse().ok()?;
        Some(if rest.as_bytes()[split] == b'H' {
            Component::Head { layer, head: index }
        } else {
            Component::Neuron {
                layer,
                neuron: index,
            }
        })
    }

    /// `(layer, index in the layer)`.
    pub fn parts(self) -> (usize, usize) {
        match self {
            Component::Head { layer, head } => (layer, head),
            Component::Neuron { layer, neuron } => (layer, neuron),
        }
    }

    /// The same kind of component at `(layer, index)`.
    pub fn with_parts(self, layer: usize, index: usize) -> Self {
        match self {
            Component::Head { .. } => Component::Head { layer, head: index },
            Component::Neuron { .. } => Component::Neuron {
                layer,
                neuron: index,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ["L9H6", "L0N42"] {
            assert_eq!(
                Component::parse(s).map(|x| x.to_string()).as_deref(),
                Some(s)
            );
        }
        assert_eq!(Component::parse("L9X6"), None);
    }
}

/// Heads or neurons: the two kinds of component every method scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComponentKind {
    Heads,
    Neurons,
}

impl ComponentKind {
    pub const ALL: [ComponentKind; 2] = [ComponentKind::Heads, ComponentKind::Neurons];

    pub fn label(self) -> &'static str {
        match self {
            ComponentKind::Heads => "heads",
            ComponentKind::Neurons => "neurons",
        }
    }
}
