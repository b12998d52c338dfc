//! A study with the edge methods: every edge's mean score over the prompts equals the mean of
//! `circuit_goldens.json`'s, each prompt's exactly patched edges are its top ones by |EAP-IG|
//! with the goldens' exact scores, the found-of-top counts and the edge faithfulness curves are
//! those of the methods crate, and results.json / edges.csv keep them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_methods::edge_faithfulness::edge_faithfulness;
use gradpatch_methods::faithfulness::log_sizes;
use gradpatch_model::Processing;
use gradpatch_runs::PromptRuns;
use gradpatch_study::edges::EdgeList;
use gradpatch_study::faithfulness::ranking;
use gradpatch_study::{Results, StudyConfig, run_study};
use gradpatch_terms::{EDGE_RANDOM_RANKINGS, Method, MethodSet, Ranking, Stage, StudyOptions};
use gradpatch_testdata::{array, at, circuit_goldens};

fn config(options: StudyOptions) -> StudyConfig {
    StudyConfig {
        model: "model-a".into(),
        processing: Processing::all(),
        options,
        prompts_source: serde_json::Value::Null,
        backend: "ndarray".into(),
    }
}

fn golden(field: &str, prompt: usize) -> Vec<f64> {
    array(&at(circuit_goldens(), "edges")[field][prompt]).1
}

#[test]
fn a_study_keeps_every_edge_score_the_exact_top_edges_and_their_curves() {
    let model = gradpatch_testmodel::model_a(Processing::all());
    let pairs = gradpatch_testmodel::model_a_pairs(4);
    let options = StudyOptions {
        methods: MethodSet::NONE
            .with(Method::Atp, true)
            .with(Method::Eap, true)
            .with(Method::EapIg, true),
        positions: false,
        faithfulness: Some(Ranking::Abs),
        exact_edges: 20,
        ..StudyOptions::default()
    };
    let mut stages = Vec::new();
    let r = run_study(&model, &pairs, &config(options), &mut |p| {
        stages.push(p.stage);
        true
    })
    .unwrap();
    assert!(r.complete);
    for stage in [
        Stage::Scores(Method::Eap),
        Stage::Scores(Method::EapIg),
        Stage::ExactEdges,
        Stage::EdgeFaithfulness(Method::Eap),
        Stage::EdgeFaithfulness(Method::EapIg),
    ] {
        assert!(stages.contains(&stage), "{stage:?} reported");
    }
    // Node methods are unaffected: AtP has its grids, the edge methods none.
    assert!(r.scores(Method::Atp).is_some() && r.scores(Method::Eap).is_none());
    let e = r.edges.as_ref().expect("edge results");
    assert_eq!(e.n_edges, 110);
    let tol = 1e-4;
    for (method, field) in [(Method::Eap, "eap"), (Method::EapIg, "eap_ig_inputs_m5")] {
        let s = &e.scores[&method];
        assert_eq!((s.prompts, s.top.len()), (4, 4));
        for (edge, &got) in s.mean.iter().enumerate() {
            let want = (0..4).map(|p| golden(field, p)[edge]).sum::<f64>() / 4.0;
            assert!((f64::from(got) - want).abs() < tol, "{field} edge {edge}");
        }
        // Every edge is in a prompt's top list (110 < 1000), largest |score| first.
        let top = &s.top[2];
        assert_eq!(top.edges.len(), 110);
        assert!(top.scores.windows(2).all(|w| w[0].abs() >= w[1].abs()));
    }
    let x = e.exact.as_ref().expect("exact");
    assert_eq!(
        (x.ranked_by, x.n, x.found_n, x.prompts.len()),
        (Method::EapIg, 20, 5, 4)
    );
    for (p, list) in x.prompts.iter().enumerate() {
        let by_ig = ranking(
            &golden("eap_ig_inputs_m5", p)
                .iter()
                .map(|&v| v as f32)
                .collect::<Vec<_>>(),
            false,
        );
        // The same set of edges (the order of near-ties may differ by rounding).
        let mut got = list.indices();
        let mut want = by_ig[..20].to_vec();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "prompt {p}: the top 20 by |EAP-IG|");
        let exact = golden("exact_patching", p);
        for (&edge, &score) in list.edges.iter().zip(&list.scores) {
            let w = exact[edge as usize];
            assert!((f64::from(score) - w).abs() < tol, "prompt {p} edge {edge}");
        }
    }
    for m in [Method::Eap, Method::EapIg] {
        let found = &x.found[&m];
        assert_eq!(found.len(), 4);
        assert!(found.iter().all(|&f| f <= 5), "{m}: {found:?}");
    }
    // The curves: the methods crate's faithfulness of each method's ranking of prompt 1.
    let f = e.faithfulness.as_ref().expect("edge curves");
    assert_eq!(f.k, log_sizes(110));
    assert_eq!(f.random_rankings, EDGE_RANDOM_RANKINGS);
    let runs = PromptRuns::new(&model, &pairs[1]).unwrap();
    let full = gradpatch_methods::edges::eap(&model, &runs).unwrap();
    let order = ranking(&full, false);
    let sets: Vec<Vec<usize>> = f.k.iter().map(|&k| order[..k].to_vec()).collect();
    let direct = edge_faithfulness(&model, &runs, &sets).unwrap();
    assert_eq!(f.methods[&Method::Eap][1], direct);
    let curve = &f.methods[&Method::EapIg][0];
    assert!((curve[f.k.len() - 1] - 1.0).abs() < 1e-5 && curve[0].abs() < 1e-4);
    let band = &f.random;
    assert_eq!(band.mean.len(), 4);
    assert_eq!(f.random_k, f.k);
    for j in 0..f.random_k.len() {
        assert!(
            band.p05[1][j] <= band.mean[1][j] + 1e-6 && band.mean[1][j] <= band.p95[1][j] + 1e-6
        );
    }
    // results.json keeps everything; edges.csv has a row per edge and method, then the lists.
    let back = Results::from_json(&serde_json::to_vec(&r).unwrap()).unwrap();
    assert_eq!(back.edges, r.edges);
    let csv = gradpatch_study::csv::edges_csv(&r);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "edge,name,method,prompt,score");
    assert!(rows[1].starts_with("0,input->a0.0<q,eap,,"), "{}", rows[1]);
    assert_eq!(rows.len(), 1 + 2 * 110 + 2 * 4 * 110 + 4 * 20);
    assert_eq!(
        EdgeList::top_of(&full, 3).edges,
        order[..3].iter().map(|&e| e as u32).collect::<Vec<_>>()
    );
}

/// Only edge methods: no node scores, no pairs, no node curves; exact ranked by EAP.
#[test]
fn edge_methods_alone_run_and_rank_the_exact_edges_by_eap() {
    let model = gradpatch_testmodel::model_a(Processing::all());
    let pairs = gradpatch_testmodel::model_a_pairs(2);
    let options = StudyOptions {
        methods: MethodSet::NONE.with(Method::Eap, true),
        positions: true,
        exact_edges: 5,
        ..StudyOptions::default()
    };
    let r = run_study(&model, &pairs, &config(options), &mut |_| true).unwrap();
    assert!(r.complete && r.scores.is_empty() && r.stats_pairs.is_none());
    let e = r.edges.as_ref().expect("edges");
    let x = e.exact.as_ref().expect("exact");
    assert_eq!((x.ranked_by, x.prompts[1].edges.len()), (Method::Eap, 5));
    assert!(e.faithfulness.is_none());
    // Cancelled at exact patching: EAP's scores of the first prompt stay.
    let cut = run_study(
        &model,
        &pairs,
        &config(r.config.options.clone()),
        &mut |p| p.stage != Stage::ExactEdges,
    )
    .unwrap();
    assert!(!cut.complete);
    assert_eq!(
        cut.edges.as_ref().map(|e| e.scores[&Method::Eap].top.len()),
        Some(1)
    );
}
