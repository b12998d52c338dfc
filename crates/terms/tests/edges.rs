//! The edge graph's nodes, edges, names and order equal the reference's (`circuit_goldens.json`
//! `edges.upstream_nodes`, `downstream_nodes`, `names`, `upstream_index`, `downstream_index`).

use gradpatch_terms::EdgeGraph;
use gradpatch_testdata::{at, circuit_goldens};

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn indices(v: &serde_json::Value) -> Vec<usize> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as usize)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_graph_of_model_a_is_the_references() {
    let g = circuit_goldens();
    let (layers, heads) = (
        at(g, "n_layers").as_u64().unwrap_or(0) as usize,
        at(g, "n_heads").as_u64().unwrap_or(0) as usize,
    );
    let graph = EdgeGraph::new(layers, heads);
    let node_names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|n| n["name"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let up: Vec<String> = graph.upstream.iter().map(ToString::to_string).collect();
    let down: Vec<String> = graph.downstream.iter().map(ToString::to_string).collect();
    assert_eq!(up, node_names(at(g, "edges/upstream_nodes")));
    assert_eq!(down, node_names(at(g, "edges/downstream_nodes")));
    let names: Vec<String> = graph.edges.iter().map(|&e| graph.name(e)).collect();
    assert_eq!(names, strings(at(g, "edges/names")));
    assert_eq!(
        graph.edges.len() as u64,
        at(g, "edges/n_edges").as_u64().unwrap_or(0)
    );
    let from: Vec<usize> = graph.edges.iter().map(|e| e.from).collect();
    let to: Vec<usize> = graph.edges.iter().map(|e| e.to).collect();
    assert_eq!(from, indices(at(g, "edges/upstream_index")));
    assert_eq!(to, indices(at(g, "edges/downstream_index")));
}
