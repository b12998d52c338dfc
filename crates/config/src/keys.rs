//! Moving the selected component with the keyboard over a chart's grid of components.

use gradpatch_terms::Component;

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

    /// The component this move takes `at` to, in a model of `layers` layers of `per_layer` heads (or
    /// neurons, as `at` is); it stays inside the model (and is brought inside when it was not).
    pub fn apply(self, at: Component, layers: usize, per_layer: usize) -> Component {
        let (last_layer, last) = (layers.saturating_sub(1), per_layer.saturating_sub(1));
        let (layer, index) = at.parts();
        let (layer, index) = (layer.min(last_layer), index.min(last));
        let (layer, index) = match self {
            Move::Prev => (layer, index.saturating_sub(1)),
            Move::Next => (layer, (index + 1).min(last)),
            Move::PagePrev => (layer, index.saturating_sub(64)),
            Move::PageNext => (layer, index.saturating_add(64).min(last)),
            Move::LayerUp => ((layer + 1).min(last_layer), index),
            Move::LayerDown => (layer.saturating_sub(1), index),
            Move::First => (layer, 0),
            Move::Last => (layer, last),
        };
        at.with_parts(layer, index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_move_within_the_model() {
        let h = |layer, head| Component::Head { layer, head };
        let at = h(1, 2);
        let go = |m: Move| m.apply(at, 2, 4);
        assert_eq!(go(Move::Prev), h(1, 1));
        assert_eq!(go(Move::Next), h(1, 3));
        assert_eq!(go(Move::LayerUp), h(1, 2), "layer 1 is the last of 2");
        assert_eq!(go(Move::LayerDown), h(0, 2));
        assert_eq!(go(Move::First), h(1, 0));
        assert_eq!(go(Move::Last), h(1, 3));
        assert_eq!(Move::Prev.apply(h(0, 0), 2, 4), h(0, 0));
        assert_eq!(Move::Next.apply(h(0, 3), 2, 4), h(0, 3));
        // A selection from another model (a link) is brought inside first.
        assert_eq!(Move::Prev.apply(h(9, 9), 2, 4), h(1, 2));
        let n = Component::Neuron {
            layer: 0,
            neuron: 100,
        };
        assert_eq!(
            Move::PagePrev.apply(n, 12, 3072),
            Component::Neuron {
                layer: 0,
                neuron: 36
            }
        );
        assert_eq!(
            Move::PageNext.apply(n, 12, 3072),
            Component::Neuron {
                layer: 0,
                neuron: 164
            }
        );
        assert_eq!(
            Move::PageNext.apply(
                Component::Neuron {
                    layer: 0,
                    neuron: 3050
                },
                12,
                3072
            ),
            Component::Neuron {
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
}
