//! The computational graph whose edges EAP, EAP-IG and exact edge patching score: upstream
//! nodes (the embeddings, each head's output, each MLP's output) write to the residual stream;
//! downstream nodes (each head's query, key and value inputs, each MLP's input, the logits) read
//! it. An edge u → v exists when u writes before v reads. Names and order are the reference's
//! (`../shared/reference/CIRCUITS.md`): `input`, `a{l}.{h}`, `m{l}`; `a{l}.{h}<q|k|v`, `m{l}`,
//! `logits`; edges upstream-major, each upstream node's edges in the downstream order.

use std::fmt;

/// Which input of a head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QkvInput {
    Q,
    K,
    V,
}

impl QkvInput {
    pub const ALL: [QkvInput; 3] = [QkvInput::Q, QkvInput::K, QkvInput::V];

    pub fn letter(self) -> char {
        match self {
            QkvInput::Q => 'q',
            QkvInput::K => 'k',
            QkvInput::V => 'v',
        }
    }
}

/// A node that writes to the residual stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Upstream {
    /// Token and position embeddings (`blocks.0.hook_resid_pre`).
    Input,
    /// A head's output (`hook_result`, without b_O).
    Head { layer: usize, head: usize },
    /// An MLP's output (`hook_mlp_out`).
    Mlp(usize),
}

/// A node that reads the residual stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Downstream {
    /// A head's query, key or value input (`hook_q_input` … per head).
    Head {
        layer: usize,
        head: usize,
        input: QkvInput,
    },
    /// An MLP's input (`hook_mlp_in`).
    Mlp(usize),
    /// The input of the final LayerNorm (`hook_resid_post` of the last layer).
    Logits,
}

impl Upstream {
    /// The reference's write slot: input −1, heads of layer l 2l, MLP l 2l + 1.
    fn slot(self) -> isize {
        match self {
            Upstream::Input => -1,
            Upstream::Head { layer, .. } => 2 * layer as isize,
            Upstream::Mlp(layer) => 2 * layer as isize + 1,
        }
    }
}

impl Downstream {
    /// The reference's read slot: q/k/v of layer l 2l, MLP l 2l + 1, logits 2L.
    fn slot(self, layers: usize) -> isize {
        match self {
            Downstream::Head { layer, .. } => 2 * layer as isize,
            Downstream::Mlp(layer) => 2 * layer as isize + 1,
            Downstream::Logits => 2 * layers as isize,
        }
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Upstream::Input => f.write_str("input"),
            Upstream::Head { layer, head } => write!(f, "a{layer}.{head}"),
            Upstream::Mlp(layer) => write!(f, "m{layer}"),
        }
    }
}

impl fmt::Display for Downstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Downstream::Head { layer, head, input } => {
                write!(f, "a{layer}.{head}<{}", input.letter())
            }
            Downstream::Mlp(layer) => write!(f, "m{layer}"),
            Downstream::Logits => f.write_str("logits"),
        }
    }
}

/// An edge: an index into [`EdgeGraph::upstream`] and one into [`EdgeGraph::downstream`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
}

/// The nodes and edges of a model of `layers` × `heads`, in the reference's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeGraph {
    pub layers: usize,
    pub heads: usize,
    pub upstream: Vec<Upstream>,
    pub downstream: Vec<Downstream>,
    pub edges: Vec<Edge>,
}

impl EdgeGraph {
    pub fn new(layers: usize, heads: usize) -> EdgeGraph {
        let mut upstream = vec![Upstream::Input];
        let mut downstream = Vec::new();
        for layer in 0..layers {
            upstream.extend((0..heads).map(|head| Upstream::Head { layer, head }));
            upstream.push(Upstream::Mlp(layer));
            for head in 0..heads {
                downstream.extend(QkvInput::ALL.map(|input| Downstream::Head {
                    layer,
                    head,
                    input,
                }));
            }
            downstream.push(Downstream::Mlp(layer));
        }
        downstream.push(Downstream::Logits);
        let edges = upstream
            .iter()
            .enumerate()
            .flat_map(|(from, u)| {
                let write = u.slot();
                downstream
                    .iter()
                    .enumerate()
                    .filter(move |(_, v)| write < v.slot(layers))
                    .map(move |(to, _)| Edge { from, to })
            })
            .collect();
        EdgeGraph {
            layers,
            heads,
            upstream,
            downstream,
            edges,
        }
    }

    /// `"{upstream}->{downstream}"`.
    pub fn name(&self, edge: Edge) -> String {
        format!("{}->{}", self.upstream[edge.from], self.downstream[edge.to])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's count: (3LH + L + 1) + H·Σ_l (3H(L−1−l) + (L−l) + 1) + Σ_l (3H(L−1−l) + (L−1−l) + 1).
    fn count(l: usize, h: usize) -> usize {
        let heads: usize = (0..l).map(|i| 3 * h * (l - 1 - i) + (l - i) + 1).sum();
        let mlps: usize = (0..l).map(|i| 3 * h * (l - 1 - i) + (l - 1 - i) + 1).sum();
        (3 * l * h + l + 1) + h * heads + mlps
    }

    #[test]
    fn sizes_follow_the_reference_formula() {
        let a = EdgeGraph::new(2, 4);
        assert_eq!(
            (a.upstream.len(), a.downstream.len(), a.edges.len()),
            (11, 27, 110)
        );
        for (l, h) in [(1, 1), (3, 4), (6, 12), (12, 12), (24, 16)] {
            assert_eq!(EdgeGraph::new(l, h).edges.len(), count(l, h), "{l} × {h}");
        }
        // GPT-2 small: 32,491 edges.
        assert_eq!(EdgeGraph::new(12, 12).edges.len(), 32_491);
    }

    #[test]
    fn names_and_order_of_the_first_and_last_edges() {
        let a = EdgeGraph::new(2, 4);
        let names: Vec<String> = a.edges.iter().map(|&e| a.name(e)).collect();
        assert_eq!(
            &names[..3],
            ["input->a0.0<q", "input->a0.0<k", "input->a0.0<v"]
        );
        assert_eq!(&names[107..], ["a1.3->m1", "a1.3->logits", "m1->logits"]);
        // A head writes to its own layer's MLP, not to its own layer's heads.
        assert!(names.contains(&"a0.3->m0".to_string()));
        assert!(!names.iter().any(|n| n.starts_with("a0.3->a0.")));
    }
}
