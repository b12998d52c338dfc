//! The Circuit tab's layered graph: where each node of the model's edge graph sits (computed
//! once per model shape), which edges an edge method's scores keep, and what lies under the
//! pointer. Drawing is in [`crate::graph_draw`].
//!
//! Layout, bottom to top: the input; per layer its heads in a row (each with its q, k and v
//! input ports below it and its output above) and its MLP above them, centred; the logits.

use gradpatch_study::Results;
use gradpatch_study::faithfulness::ranking;
use gradpatch_terms::{Downstream, EdgeGraph, Method, QkvInput, Upstream};

/// Canvas size of the graph.
pub const WIDTH: u32 = 960;
const MARGIN_X: f64 = 56.0;
const MARGIN_Y: f64 = 28.0;
/// Head markers' radius and the spacing of their q/k/v ports.
pub const HEAD_R: f64 = 6.0;
const PORT_DX: f64 = 4.0;

/// Where every node is, for a model of `layers` × `heads`.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphLayout {
    pub graph: EdgeGraph,
    pub width: u32,
    pub height: u32,
    /// Each upstream node's output point, and each downstream node's input point.
    pub from: Vec<(f64, f64)>,
    pub to: Vec<(f64, f64)>,
    /// Each head's centre `[layer][head]`, each MLP's, the input's and the logits'.
    pub heads: Vec<Vec<(f64, f64)>>,
    pub mlps: Vec<(f64, f64)>,
    pub input: (f64, f64),
    pub logits: (f64, f64),
    /// The height of one row (a layer's heads, or its MLP).
    pub row: f64,
}

impl GraphLayout {
    pub fn new(layers: usize, heads: usize) -> GraphLayout {
        let graph = EdgeGraph::new(layers, heads);
        let rows = 2 * layers + 2;
        let row = (720.0 / rows as f64).clamp(18.0, 48.0);
        let height = (2.0 * MARGIN_Y + rows as f64 * row).ceil();
        let bottom = height - MARGIN_Y;
        let centre = f64::from(WIDTH) / 2.0;
        let inner = f64::from(WIDTH) - 2.0 * MARGIN_X;
        let head_x = |h: usize| MARGIN_X + (h as f64 + 0.5) * inner / heads.max(1) as f64;
        let input = (centre, bottom);
        let head_rows: Vec<Vec<(f64, f64)>> = (0..layers)
            .map(|l| {
                let y = bottom - (2 * l + 1) as f64 * row;
                (0..heads).map(|h| (head_x(h), y)).collect()
            })
            .collect();
        let mlps: Vec<(f64, f64)> = (0..layers)
            .map(|l| (centre, bottom - (2 * l + 2) as f64 * row))
            .collect();
        let logits = (centre, bottom - (2 * layers + 1) as f64 * row);
        let from = graph
            .upstream
            .iter()
            .map(|u| match *u {
                Upstream::Input => (input.0, input.1 - HEAD_R),
                Upstream::Head { layer, head } => {
                    let (x, y) = head_rows[layer][head];
                    (x, y - HEAD_R)
                }
                Upstream::Mlp(l) => (mlps[l].0, mlps[l].1 - HEAD_R),
            })
            .collect();
        let to = graph
            .downstream
            .iter()
            .map(|v| match *v {
                Downstream::Head { layer, head, input } => {
                    let (x, y) = head_rows[layer][head];
                    let dx = match input {
                        QkvInput::Q => -PORT_DX,
                        QkvInput::K => 0.0,
                        QkvInput::V => PORT_DX,
                    };
                    (x + dx, y + HEAD_R)
                }
                Downstream::Mlp(l) => (mlps[l].0, mlps[l].1 + HEAD_R),
                Downstream::Logits => (logits.0, logits.1 + HEAD_R),
            })
            .collect();
        GraphLayout {
            graph,
            width: WIDTH,
            height: height as u32,
            from,
            to,
            heads: head_rows,
            mlps,
            input,
            logits,
            row,
        }
    }

    /// The two ends of edge `e`.
    pub fn segment(&self, e: usize) -> Option<((f64, f64), (f64, f64))> {
        let edge = self.graph.edges.get(e)?;
        Some((self.from[edge.from], self.to[edge.to]))
    }

    /// The head whose marker is at pixel `(x, y)`.
    pub fn head_at(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let r = HEAD_R + 2.0;
        self.heads.iter().enumerate().find_map(|(l, row)| {
            row.iter()
                .position(|&(hx, hy)| (hx - x).powi(2) + (hy - y).powi(2) <= r * r)
                .map(|h| (l, h))
        })
    }
}

/// What the graph shows: the kept edges of one edge method (for one prompt, or the mean over
/// prompts), largest |score| first.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphData {
    pub method: Method,
    /// `(edge, score)` of the kept edges.
    pub kept: Vec<(usize, f32)>,
    /// The largest |score| kept (line widths scale with it).
    pub max: f32,
    /// Per edge, whether it lies on a known circuit's connections (when one is in use).
    pub on_circuit: Option<Vec<bool>>,
}

/// The edge method the graph shows when the view names none: EAP-IG when it ran, else EAP.
pub fn default_method(r: &Results) -> Option<Method> {
    let e = r.edges.as_ref()?;
    [Method::EapIg, Method::Eap]
        .into_iter()
        .find(|m| e.scores.contains_key(m))
}

/// Every edge `method` has a score for, largest |score| first: all of them for the mean over
/// prompts, a prompt's top list for one prompt.
pub fn ranked_edges(
    r: &Results,
    method: Method,
    prompt: Option<usize>,
) -> Option<Vec<(usize, f32)>> {
    let s = r.edges.as_ref()?.scores.get(&method)?;
    Some(match prompt {
        None => ranking(&s.mean, false)
            .into_iter()
            .map(|e| (e, s.mean[e]))
            .filter(|(_, v)| v.is_finite())
            .collect(),
        Some(p) => {
            let list = s.top.get(p)?;
            list.edges
                .iter()
                .zip(&list.scores)
                .map(|(&e, &v)| (e as usize, v))
                .filter(|(_, v)| v.is_finite())
                .collect()
        }
    })
}

impl GraphData {
    /// The first `count` of `ranked` (from [`ranked_edges`]).
    pub fn new(
        method: Method,
        ranked: &[(usize, f32)],
        count: usize,
        on_circuit: Option<Vec<bool>>,
    ) -> GraphData {
        let kept: Vec<(usize, f32)> = ranked.iter().take(count).copied().collect();
        let max = kept.iter().map(|(_, v)| v.abs()).fold(0.0f32, f32::max);
        GraphData {
            method,
            kept,
            max,
            on_circuit,
        }
    }

    /// How many kept edges lie on the circuit's connections, when a circuit is in use.
    pub fn on_circuit_count(&self) -> Option<usize> {
        let mask = self.on_circuit.as_ref()?;
        Some(
            self.kept
                .iter()
                .filter(|(e, _)| mask.get(*e).copied().unwrap_or(false))
                .count(),
        )
    }

    /// The kept edge nearest to pixel `(x, y)` within a few pixels.
    pub fn edge_at(&self, layout: &GraphLayout, x: f64, y: f64) -> Option<usize> {
        let mut best = None;
        let mut best_d = 4.0f64;
        for &(e, _) in &self.kept {
            let Some(((x0, y0), (x1, y1))) = layout.segment(e) else {
                continue;
            };
            let d = distance_to_segment((x, y), (x0, y0), (x1, y1));
            if d < best_d {
                best_d = d;
                best = Some(e);
            }
        }
        best
    }

    /// Whether any kept edge touches upstream node `u` or downstream node `v`'s node; the
    /// nodes without one are faded.
    pub fn touched(&self, layout: &GraphLayout) -> (Vec<bool>, Vec<bool>) {
        let g = &layout.graph;
        let mut up = vec![false; g.upstream.len()];
        let mut down = vec![false; g.downstream.len()];
        for &(e, _) in &self.kept {
            if let Some(edge) = g.edges.get(e) {
                up[edge.from] = true;
                down[edge.to] = true;
            }
        }
        (up, down)
    }
}

fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

/// An edge's scores for the tooltip: each edge method's (the mean over prompts, or the
/// prompt's when in its top list) and exact patching's where it was computed (its mean over
/// the prompts that patched the edge).
pub fn edge_scores(r: &Results, e: usize, prompt: Option<usize>) -> Vec<(String, Option<f32>)> {
    let Some(edges) = r.edges.as_ref() else {
        return Vec::new();
    };
    let find = |list: &gradpatch_study::edges::EdgeList| {
        list.edges
            .iter()
            .position(|&x| x as usize == e)
            .map(|i| list.scores[i])
    };
    let mut out: Vec<(String, Option<f32>)> = edges
        .scores
        .iter()
        .map(|(m, s)| {
            let v = match prompt {
                None => s.mean.get(e).copied(),
                Some(p) => s.top.get(p).and_then(find),
            };
            (m.label().to_string(), v)
        })
        .collect();
    if let Some(x) = &edges.exact {
        let values: Vec<f32> = match prompt {
            None => x.prompts.iter().filter_map(find).collect(),
            Some(p) => x.prompts.get(p).and_then(find).into_iter().collect(),
        };
        let v = (!values.is_empty()).then(|| values.iter().sum::<f32>() / values.len() as f32);
        out.push(("exact".to_string(), v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_puts_the_input_below_every_layer_and_the_logits_above() {
        let l = GraphLayout::new(12, 12);
        assert_eq!(l.graph.edges.len(), 32_491);
        assert!(l.input.1 > l.heads[0][0].1 && l.heads[0][0].1 > l.mlps[0].1);
        assert!(l.mlps[11].1 > l.logits.1 && l.logits.1 > 0.0);
        assert!(f64::from(l.height) >= l.input.1);
        // Every edge goes up the page: its source writes below where its target reads.
        for e in 0..l.graph.edges.len() {
            let ((_, y0), (_, y1)) = l.segment(e).unwrap_or_default();
            assert!(y0 > y1, "edge {e}");
        }
        assert_eq!(
            l.head_at(l.heads[3][7].0 + 2.0, l.heads[3][7].1),
            Some((3, 7))
        );
        assert_eq!(l.head_at(1.0, 1.0), None);
    }

    #[test]
    fn the_nearest_kept_edge_is_found_and_nodes_without_one_fade() {
        let l = GraphLayout::new(2, 2);
        let data = GraphData::new(Method::Eap, &[(3, -2.0), (0, 1.0), (5, 0.5)], 2, None);
        assert_eq!(data.max, 2.0);
        let ((x0, y0), (x1, y1)) = l.segment(3).unwrap_or_default();
        let mid = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        assert_eq!(data.edge_at(&l, mid.0 + 1.0, mid.1), Some(3));
        let ((x0, y0), _) = l.segment(5).unwrap_or_default();
        assert_ne!(
            data.edge_at(&l, x0, y0 - 30.0),
            Some(5),
            "edge 5 is not kept"
        );
        let (up, _) = data.touched(&l);
        assert!(
            up[0] && up.iter().skip(1).all(|u| !u),
            "only the input has kept edges"
        );
    }
}
