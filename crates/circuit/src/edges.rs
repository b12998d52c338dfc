//! Which edges of a model's graph lie on a circuit's known connections (its true edges, class
//! to class). As ACDC's and auto-circuit's IOI true edges count them: an edge from a head of
//! the sending class (or the input) to an input the receiving class reads (`q`, `k`, `v`; the
//! logits for `OUTPUT`), and every MLP between the two ends as part of the connection (an edge
//! into such an MLP from the sender, out of it into the receiver, or between two of them).

use gradpatch_terms::{Downstream, EdgeGraph, QkvInput, Upstream};

use crate::file::{Circuit, HeadId};

/// The residual slot an upstream node writes at, and the one a downstream node reads at
/// (CIRCUITS.md: input −1, layer l's heads 2l, its MLP 2l + 1, the logits 2L).
fn writes(u: &Upstream) -> i64 {
    match *u {
        Upstream::Input => -1,
        Upstream::Head { layer, .. } => 2 * layer as i64,
        Upstream::Mlp(l) => 2 * l as i64 + 1,
    }
}

fn reads(v: &Downstream, layers: usize) -> i64 {
    match *v {
        Downstream::Head { layer, .. } => 2 * layer as i64,
        Downstream::Mlp(l) => 2 * l as i64 + 1,
        Downstream::Logits => 2 * layers as i64,
    }
}

/// One true connection resolved to the graph's nodes.
struct Connection {
    /// The sending nodes (heads of the class, or the input).
    from: Vec<Upstream>,
    /// The receiving nodes (each head's inputs named, or the logits).
    to: Vec<Downstream>,
}

impl Circuit {
    fn class_heads(&self, name: &str) -> Vec<HeadId> {
        self.classes
            .iter()
            .filter(|c| c.name == name)
            .flat_map(|c| c.heads.iter().copied())
            .collect()
    }

    fn connections(&self) -> Vec<Connection> {
        self.true_edges
            .iter()
            .map(|t| {
                let from = if t.from == crate::file::INPUT {
                    vec![Upstream::Input]
                } else {
                    let heads = self.class_heads(&t.from);
                    heads
                        .into_iter()
                        .map(|(layer, head)| Upstream::Head { layer, head })
                        .collect()
                };
                let to = if t.to == crate::file::OUTPUT {
                    vec![Downstream::Logits]
                } else {
                    let inputs: Vec<QkvInput> = QkvInput::ALL
                        .into_iter()
                        .filter(|i| t.inputs.contains(i.letter()))
                        .collect();
                    self.class_heads(&t.to)
                        .into_iter()
                        .flat_map(|(layer, head)| {
                            inputs
                                .iter()
                                .map(move |&input| Downstream::Head { layer, head, input })
                        })
                        .collect()
                };
                Connection { from, to }
            })
            .collect()
    }

    /// Per edge of `graph` (in its order), whether it lies on one of the circuit's true
    /// connections; all false for a circuit without true edges.
    pub fn edge_mask(&self, graph: &EdgeGraph) -> Vec<bool> {
        let layers = graph.layers;
        let connections = self.connections();
        graph
            .edges
            .iter()
            .map(|edge| {
                let (u, v) = (&graph.upstream[edge.from], &graph.downstream[edge.to]);
                connections.iter().any(|c| {
                    let sends = match u {
                        Upstream::Mlp(_) => c.from.iter().any(|f| writes(f) < reads_of_mlp(u)),
                        _ => c.from.contains(u),
                    };
                    let receives = match v {
                        Downstream::Mlp(l) => {
                            let mlp_writes = 2 * *l as i64 + 1;
                            c.to.iter().any(|t| mlp_writes < reads(t, layers))
                        }
                        _ => c.to.contains(v),
                    };
                    sends && receives
                })
            })
            .collect()
    }
}

/// Where the MLP upstream node `u` reads (the same slot it writes: 2l + 1).
fn reads_of_mlp(u: &Upstream) -> i64 {
    writes(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(graph: &EdgeGraph, mask: &[bool]) -> Vec<String> {
        graph
            .edges
            .iter()
            .zip(mask)
            .filter(|(_, on)| **on)
            .map(|(&e, _)| graph.name(e))
            .collect()
    }

    #[test]
    fn edges_on_a_connection_go_from_the_sender_to_the_receivers_inputs_through_mlps() {
        let circuit = Circuit::parse(
            br#"{"format_version": 1, "classes": [
                {"name": "a", "acts_at": "END", "heads": [[0, 1]]},
                {"name": "b", "acts_at": "END", "heads": [[2, 0]]}],
              "true_edges": {"edges": [["a", "b", "q"], ["b", "OUTPUT", ""]]}}"#,
        );
        let circuit = match circuit {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let graph = EdgeGraph::new(3, 2);
        let on = names(&graph, &circuit.edge_mask(&graph));
        assert_eq!(
            on,
            [
                "a0.1->m0",
                "a0.1->m1",
                "a0.1->a2.0<q",
                "m0->m1",
                "m0->a2.0<q",
                "m1->a2.0<q",
                "a2.0->m2",
                "a2.0->logits",
                "m2->logits",
            ]
        );
    }

    #[test]
    fn the_bundled_ioi_circuit_marks_a_share_of_gpt2_smalls_edges() {
        let circuit = match crate::ioi_gpt2_small() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let graph = EdgeGraph::new(12, 12);
        let mask = circuit.edge_mask(&graph);
        let on = mask.iter().filter(|m| **m).count();
        assert!(on > 100 && on < graph.edges.len() / 4, "{on}");
        let name_of = |s: &str| graph.edges.iter().position(|&e| graph.name(e) == s);
        // Name mover 9.9 to the logits; S-inhibition 8.10 into name mover 9.9's query.
        for edge in ["a9.9->logits", "a8.10->a9.9<q", "input->a9.9<k"] {
            assert_eq!(name_of(edge).map(|i| mask[i]), Some(true), "{edge}");
        }
        assert_eq!(name_of("a8.10->a9.9<k").map(|i| mask[i]), Some(false));
    }
}
