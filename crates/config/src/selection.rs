//! A selected head or neuron, as a link names it (`L9H6`, `L0N42`) and as the keyboard moves it.

use std::fmt;

/// A selected head or neuron.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    Head { layer: usize, head: usize },
    Neuron { layer: usize, neuron: usize },
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selection::Head { layer, head } => write!(f, "L{layer}H{head}"),
            Selection::Neuron { layer, neuron } => write!(f, "L{layer}N{neuron}"),
        }
    }
}

/// A keyboard move over the components of a chart (rows are layers, columns heads or neurons).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// One component left / right in the layer.
    Prev,
    Next,
    /// 64 components left / right (neuron maps are 3,072 wide).
    PagePrev,
    PageNext,
    /// One layer up / down.
    LayerUp,
    LayerDown,
    /// The first / last component of the layer.
    First,
    Last,
}

impl Move {
    /// The move a key makes (`KeyboardEvent.key`): arrows, Page Up/Down, Home/End. Up is the
    /// next layer, as the charts draw layer 0 at the bottom.
    pub fn from_key(key: &str) -> Option<Self> {
        Some(match key {
            "ArrowLeft" => Move::Prev,
            "ArrowRight" => Move::Next,
            "PageDown" => Move::PagePrev,
            "PageUp" => Move::PageNext,
            "ArrowUp" => Move::LayerUp,
            "ArrowDown" => Move::LayerDown,
            "Home" => Move::First,
            "End" => Move::Last,
            _ => return None,
        })
    }
}

impl Selection {
    /// Parses `L5H3` or `L5N123`.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix('L')?;
        let split = rest.find(['H', 'N'])?;
        let layer = rest[..split].parse().ok()?;
        let index = rest[split + 1..].parse().ok()?;
        Some(if rest.as_bytes()[split] == b'H' {
            Selection::Head { layer, head: index }
        } else {
            Selection::Neuron {
                layer,
                neuron: index,
            }
        })
    }

    fn parts(self) -> (usize, usize) {
        match self {
            Selection::Head { layer, head } => (layer, head),
            Selection::Neuron { layer, neuron } => (layer, neuron),
        }
    }

    /// The component `m` moves to, in a model of `layers` layers of `per_layer` heads (or
    /// neurons, as `self` is); it stays inside the model (and is brought inside when it was not).
    pub fn moved(self, m: Move, layers: usize, per_layer: usize) -> Self {
        let (last_layer, last) = (layers.saturating_sub(1), per_layer.saturating_sub(1));
        let (layer, index) = self.parts();
        let (layer, index) = (layer.min(last_layer), index.min(last));
        let (layer, index) = match m {
            Move::Prev => (layer, index.saturating_sub(1)),
            Move::Next => (layer, (index + 1).min(last)),
            Move::PagePrev => (layer, index.saturating_sub(64)),
            Move::PageNext => (layer, index.saturating_add(64).min(last)),
            Move::LayerUp => ((layer + 1).min(last_layer), index),
            Move::LayerDown => (layer.saturating_sub(1), index),
            Move::First => (layer, 0),
            Move::Last => (layer, last),
        };
        match self {
            Selection::Head { .. } => Selection::Head { layer, head: index },
            Selection::Neuron { .. } => Selection::Neuron {
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
    fn keys_move_within_the_model() {
        let h = |layer, head| Selection::Head { layer, head };
        let at = h(1, 2);
        let go = |m| at.moved(m, 2, 4);
        assert_eq!(go(Move::Prev), h(1, 1));
        assert_eq!(go(Move::Next), h(1, 3));
        assert_eq!(go(Move::LayerUp), h(1, 2), "layer 1 is the last of 2");
        assert_eq!(go(Move::LayerDown), h(0, 2));
        assert_eq!(go(Move::First), h(1, 0));
        assert_eq!(go(Move::Last), h(1, 3));
        assert_eq!(h(0, 0).moved(Move::Prev, 2, 4), h(0, 0));
        assert_eq!(h(0, 3).moved(Move::Next, 2, 4), h(0, 3));
        // A selection from another model (a link) is brought inside first.
        assert_eq!(h(9, 9).moved(Move::Prev, 2, 4), h(1, 2));
        let n = Selection::Neuron {
            layer: 0,
            neuron: 100,
        };
        assert_eq!(
            n.moved(Move::PagePrev, 12, 3072),
            Selection::Neuron {
                layer: 0,
                neuron: 36
            }
        );
        assert_eq!(
            n.moved(Move::PageNext, 12, 3072),
            Selection::Neuron {
                layer: 0,
                neuron: 164
            }
        );
        assert_eq!(
            Selection::Neuron {
                layer: 0,
                neuron: 3050
            }
            .moved(Move::PageNext, 12, 3072),
            Selection::Neuron {
                layer: 0,
                neuron: 3071
            }
        );
    }

    #[test]
    fn keys_map_to_moves() {
        assert_eq!(Move::from_key("ArrowUp"), Some(Move::LayerUp));
        assert_eq!(Move::from_key("Home"), Some(Move::First));
        assert_eq!(Move::from_key("a"), None);
        assert_eq!(Move::from_key("Enter"), None);
    }

    #[test]
    fn names_round_trip() {
        for s in ["L9H6", "L0N42"] {
            assert_eq!(
                Selection::parse(s).map(|x| x.to_string()).as_deref(),
                Some(s)
            );
        }
        assert_eq!(Selection::parse("L9X6"), None);
    }
}
