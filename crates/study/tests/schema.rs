//! `results.json` files written before the shared option types moved into `gradpatch-terms`, and
//! before methods were values, read into today's types and are written back exactly as the old
//! types wrote them.
//!
//! Fixtures (2026-12-02, commit b4b0d58, model-a, 2 IOI prompts with `abc` corruption, seed 3,
//! 4 IG steps of `riemann_trapezoid`, `corrupted` IG baseline, `denoising` AP):
//! * `results-cli-2026-12.json`: what `gradpatch run` wrote;
//! * `….rewritten.json` / `….pretty.json`: that file read into b4b0d58's `Results` and written
//!   back compact (the CLI's writer) and pretty (the page's export). They differ from the CLI's
//!   bytes only where serde_json's default float parser rounds an f64 differently from the
//!   shortest representation it writes (one digit of one Pearson coefficient here): a property
//!   of serde_json, the same for both versions of the types.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use gradpatch_study::{Results, pair_statistics};
use gradpatch_terms::{Baseline, Corruption, Direction, Method, MethodPair, MethodSet, Quadrature};

fn pair(a: Method, b: Method) -> MethodPair {
    MethodPair::of(a, b).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `{name}.json` read into today's types, written back compact and pretty exactly as the old
/// types wrote it (`{name}.rewritten.json`, `{name}.pretty.json`).
fn reads_and_writes_as_before(name: &str) -> Results {
    let cli = fixture(&format!("{name}.json"));
    let results: Results = serde_json::from_slice(&cli).expect("today's types read the old file");
    assert_eq!(
        serde_json::to_vec(&results).unwrap(),
        fixture(&format!("{name}.rewritten.json")),
        "{name}: the CLI's writer, as the old types wrote it"
    );
    assert_eq!(
        serde_json::to_string_pretty(&results).unwrap().into_bytes(),
        fixture(&format!("{name}.pretty.json")),
        "{name}: the page's export, as the old types wrote it"
    );
    Results::from_json(&cli).expect("and the viewer opens it");
    results
}

#[test]
fn results_json_written_before_the_shared_types_reads_and_writes_as_before() {
    let results = reads_and_writes_as_before("results-cli-2026-12");

    // The typed fields hold what the old strings and flags said.
    let c = &results.config;
    let o = &c.options;
    assert_eq!(
        o.methods,
        MethodSet::NONE
            .with(Method::Ig, true)
            .with(Method::Ap, true),
        "a file from before AtP ran IG and AP, not AtP"
    );
    assert!(!o.positions, "nor scores per position");
    assert_eq!(
        (results.scores(Method::Atp), results.stats_pairs.as_ref()),
        (None, None)
    );
    assert_eq!(
        (o.ig_method, o.ig_baseline, o.ap_direction),
        (
            Quadrature::RiemannTrapezoid,
            Baseline::Corrupted,
            Direction::Denoising
        )
    );
    assert_eq!(o.ig_steps, 4);
    assert_eq!(c.prompts_source["ioi"]["corrupt"], Corruption::Abc.key());
    assert_eq!(results.prompts.len(), 2, "two prompts");
    for p in &results.prompts {
        assert!(
            p.pair.clean.ends_with(" to") && p.pair.correct.starts_with(' '),
            "the pair's text is read into its fields: {:?}",
            p.pair
        );
        assert_eq!(
            p.clean_token_ids.len(),
            p.corrupted_token_ids.len(),
            "{:?}",
            p.pair
        );
    }
}

/// A file of 2026-12-03 (commit f2494f2), with AtP, the scores per position and every pair's
/// statistics: `gradpatch run --ioi 2 --seed 3 --ig-steps 4 --positions`, and that file read
/// into f2494f2's `Results` and written back compact and pretty. Today's types, with the methods
/// as values, read it and write it back byte for byte.
#[test]
fn results_json_with_atp_and_positions_reads_and_writes_as_before() {
    let results = reads_and_writes_as_before("results-cli-atp-2026-12");
    let o = &results.config.options;
    assert_eq!(
        o.methods,
        [Method::Atp, Method::Ig, Method::Ap].into_iter().collect()
    );
    assert!(o.positions);
    assert_eq!(results.methods(), [Method::Atp, Method::Ig, Method::Ap]);
    let ig = results.scores(Method::Ig).unwrap();
    assert!(ig.convergence_delta_heads.is_some() && ig.heads_pos.is_some());
    let ap = results.scores(Method::Ap).unwrap();
    assert!(ap.convergence_delta_heads.is_none() && ap.heads_pos.is_some());
    let pairs = results.stats_pairs.as_ref().unwrap();
    let fields: Vec<String> = pairs.iter().map(|(p, _)| p.field()).collect();
    assert_eq!(fields, ["ig_ap", "atp_ap", "ig_atp"]);
    assert_eq!(
        pairs.get(pair(Method::Ig, Method::Ap)),
        results.stats.as_ref()
    );
}

/// The IG–AP statistics of the pairs code are today's, from today's scores.
#[test]
fn pairwise_ig_ap_statistics_equal_the_files_statistics() {
    let results: Results = serde_json::from_slice(&fixture("results-cli-2026-12.json")).unwrap();
    let pairs =
        pair_statistics(&results, results.config.options.percentile).expect("IG and AP ran");
    assert!(
        pairs.get(pair(Method::Atp, Method::Ap)).is_none()
            && pairs.get(pair(Method::Ig, Method::Atp)).is_none(),
        "AtP did not run"
    );
    let (now, then) = (
        serde_json::to_value(pairs.get(pair(Method::Ig, Method::Ap)).expect("IG-AP")).unwrap(),
        serde_json::to_value(results.stats.as_ref().expect("the file's stats")).unwrap(),
    );
    fn numbers(v: &serde_json::Value, at: String, out: &mut Vec<(String, Option<f64>)>) {
        match v {
            serde_json::Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| numbers(v, format!("{at}.{k}"), out)),
            serde_json::Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| numbers(v, format!("{at}[{i}]"), out)),
            other => out.push((at, other.as_f64())),
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    numbers(&now, String::new(), &mut a);
    numbers(&then, String::new(), &mut b);
    assert_eq!(a.len(), b.len(), "same statistics");
    assert!(a.len() > 40, "{} numbers compared", a.len());
    for ((name, x), (name_b, y)) in a.iter().zip(&b) {
        assert_eq!(name, name_b);
        match (x, y) {
            (Some(x), Some(y)) => assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                "{name}: {x} now, {y} in the file"
            ),
            _ => assert_eq!(x, y, "{name}: null in one only"),
        }
    }
}

/// A way to break a results.json, and how its message starts.
type Break = Box<dyn Fn(&mut serde_json::Value)>;

/// Files broken in one place each, and the start of what opening them says.
fn broken_files() -> Vec<(Break, &'static str)> {
    vec![
        (
            Box::new(|v| v["ig"]["heads"][1][0][2] = "x".into()),
            "`ig.heads[1][0][2]`: invalid type: string \"x\", expected f32",
        ),
        (
            Box::new(|v| v["config"]["ap_direction"] = "sideways".into()),
            "`config.ap_direction`: unknown variant `sideways`",
        ),
        (
            Box::new(|v| {
                v["ap"]["neurons"][1].as_array_mut().unwrap().pop();
            }),
            "`ap.neurons[1][0]`: prompt 1 has 1 layers",
        ),
        (
            Box::new(|v| {
                v["clean_logit_diff"].as_array_mut().unwrap().pop();
            }),
            "`clean_logit_diff` has 1 values for 2 prompts",
        ),
        (
            Box::new(|v| {
                v["ap"]["heads"].as_array_mut().unwrap().pop();
                v["ap"]["neurons"].as_array_mut().unwrap().pop();
            }),
            "`ap.heads` covers 1 of 2 prompts in a complete run",
        ),
        (
            Box::new(|v| v["config"]["percentile"] = 1.5.into()),
            "`config.percentile` is 1.5",
        ),
        (
            Box::new(|v| v["prompts"][1]["clean_tokens"] = serde_json::json!(["When"])),
            "`prompts[1].clean_tokens` has 1 tokens, `clean_token_ids` ",
        ),
        (
            Box::new(|v| v["prompts"][1]["labels"] = serde_json::json!([464])),
            "`prompts[1].labels`: invalid length 1, expected an array of length 2",
        ),
    ]
}

/// A results.json from elsewhere is read with the wrong field named, and its arrays are checked
/// against each other.
#[test]
fn opening_a_results_json_names_what_is_wrong() {
    let good = fixture("results-cli-2026-12.json");
    let r = Results::from_json(&good).expect("the CLI's file opens");
    assert_eq!(r.prompts.len(), 2);
    // Written before token texts were recorded: positions are labelled by id.
    let ids = &r.prompts[0].clean_token_ids;
    assert_eq!(r.prompts[0].token_texts()[1], format!("<{}>", ids[1]));
    let (layers, heads, neurons) = r.shape().expect("scores");
    let ig = r.scores(Method::Ig).unwrap();
    assert_eq!(
        (layers, heads, neurons),
        (
            ig.heads[0].len(),
            ig.heads[0][0].len(),
            ig.neurons[0][0].len()
        )
    );
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let cases = broken_files();
    for (break_it, expected) in cases {
        let mut bad = v.clone();
        break_it(&mut bad);
        let err = Results::from_json(&serde_json::to_vec(&bad).unwrap())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(expected),
            "expected {expected:?}, got {err:?}"
        );
    }
    assert!(
        Results::from_json(b"<html>")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .starts_with("not a results.json"),
        "an HTML page is not a results.json"
    );
    // A cancelled run's nulls open as gaps.
    v["ap"]["heads"][1][0][0] = serde_json::Value::Null;
    v["complete"] = false.into();
    let r = Results::from_json(&serde_json::to_vec(&v).unwrap()).expect("nulls are gaps");
    assert!(r.scores(Method::Ap).unwrap().heads[1][0][0].is_nan());
}

/// Another highlight quantile recomputes the statistics from the scores, as a run at that
/// quantile does; the scores are untouched.
#[test]
fn another_quantile_recomputes_the_statistics() {
    let r = Results::from_json(&fixture("results-cli-2026-12.json")).unwrap();
    let at = r.at_percentile(0.75);
    assert_eq!(at.config.options.percentile, 0.75);
    assert_eq!(at.scores, r.scores, "the scores are the file's");
    let s = at.stats.as_ref().unwrap();
    assert_eq!(Some(s), gradpatch_study::statistics(&r, 0.75).as_ref());
    assert_ne!(
        s.heads.threshold_ig,
        r.stats.as_ref().unwrap().heads.threshold_ig,
        "a lower quantile, a lower threshold"
    );
    let back = at.at_percentile(r.config.options.percentile);
    assert_eq!(
        back.stats,
        gradpatch_study::statistics(&r, r.config.options.percentile)
    );
}

/// A configuration travels through `results.json` and back with its options unchanged, whatever
/// they are (`results.json` is one of the forms of `StudyOptions`); the run flags of a later
/// method are written only when it ran.
#[test]
fn study_options_round_trip_through_results_json() {
    use gradpatch_study::StudyConfig;
    use gradpatch_terms::{Processing, StudyOptions};
    let variants = [
        StudyOptions::default(),
        StudyOptions {
            methods: MethodSet::NONE.with(Method::Atp, true),
            positions: false,
            ..StudyOptions::default()
        },
        StudyOptions {
            methods: MethodSet::all().with(Method::Atp, false),
            ig_steps: 7,
            ig_method: Quadrature::RiemannLeft,
            ig_baseline: Baseline::Corrupted,
            ap_direction: Direction::Denoising,
            percentile: 0.5,
            positions: true,
            faithfulness: Some(gradpatch_terms::Ranking::Signed),
            eapig_steps: 11,
            exact_edges: 30,
        },
    ];
    for options in variants {
        let config = StudyConfig {
            model: "m".into(),
            processing: Processing::none(),
            options: options.clone(),
            prompts_source: serde_json::json!({"custom": 3}),
            backend: "ndarray".into(),
        };
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["run_ig"], options.methods.has(Method::Ig), "{json}");
        assert_eq!(json["run_ap"], options.methods.has(Method::Ap), "{json}");
        for later in [Method::Atp, Method::Eap, Method::EapIg] {
            assert_eq!(
                json.get(format!("run_{}", later.key())).is_some(),
                options.methods.has(later),
                "{json}"
            );
        }
        let back: StudyConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, config);
    }
}
