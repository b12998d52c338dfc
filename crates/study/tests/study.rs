//! A study over prompts of different lengths gives each prompt the scores it gets alone, and
//! reports progress that reaches 1 and can cancel.
#![allow(clippy::unwrap_used, clippy::expect_used, deprecated)]

use gradpatch_dataset::{Corruption, Gpt2Tokenizer, generate_ioi};
use gradpatch_model::{Gpt2, Processing};
use gradpatch_runs::PromptRuns;
use gradpatch_study::{MethodScores, Results, StudyConfig, run_study};
use gradpatch_terms::{Method, MethodPair, Stage, StudyOptions};
use gradpatch_testdata::{model_a_dir, read};

fn setup() -> (Gpt2, Vec<gradpatch_dataset::TokenizedPair>) {
    let model = gradpatch_testmodel::model_a(Processing::all());
    let tok = Gpt2Tokenizer::from_bytes(&read(model_a_dir().join("tokenizer.json"))).unwrap();
    let pairs = generate_ioi(40, 11, Corruption::Aba, &tok, 64).unwrap();
    (model, pairs)
}

fn config() -> StudyConfig {
    with_options(StudyOptions {
        ig_steps: 20,
        positions: false,
        ..StudyOptions::default()
    })
}

fn with_options(options: StudyOptions) -> StudyConfig {
    StudyConfig {
        model: "model-a".into(),
        processing: Processing::all(),
        options,
        prompts_source: serde_json::Value::Null,
        backend: "ndarray".into(),
    }
}

fn of(r: &Results, method: Method) -> &MethodScores {
    r.scores(method)
        .unwrap_or_else(|| panic!("{method} has no scores"))
}

#[test]
fn prompts_of_different_lengths_get_their_single_prompt_scores() {
    let (model, pool) = setup();
    let mut lengths = std::collections::BTreeSet::new();
    let pairs: Vec<_> = pool
        .into_iter()
        .filter(|p| lengths.insert(p.clean_ids.len()))
        .take(3)
        .collect();
    assert_eq!(pairs.len(), 3, "three different lengths");
    let all = run_study(&model, &pairs, &config(), &mut |_| true).unwrap();
    for (i, pair) in pairs.iter().enumerate() {
        let alone =
            run_study(&model, std::slice::from_ref(pair), &config(), &mut |_| true).unwrap();
        assert_eq!(
            of(&all, Method::Ap).heads[i],
            of(&alone, Method::Ap).heads[0]
        );
        assert_eq!(
            of(&all, Method::Ig).neurons[i],
            of(&alone, Method::Ig).neurons[0]
        );
        assert_eq!(all.clean_logit_diff[i], alone.clean_logit_diff[0]);
        // Each token's text, for readers without the tokenizer: BOS, then the prompt.
        let tokens = &all.prompts[i].clean_tokens;
        assert_eq!(tokens.len(), pair.clean_ids.len());
        assert_eq!(tokens[1..].concat(), pair.pair.clean);
    }
    assert!(all.complete, "the uncancelled study finished (complete)");
    assert_eq!(
        all.stats.as_ref().unwrap().heads.pearson_per_prompt.len(),
        3
    );
}

#[test]
fn progress_reaches_the_end_and_cancelling_keeps_finished_prompts() {
    let (model, pool) = setup();
    let pairs = &pool[..2];
    let mut fractions = Vec::new();
    run_study(&model, pairs, &config(), &mut |p| {
        fractions.push(p.fraction);
        true
    })
    .unwrap();
    assert!(
        fractions.windows(2).all(|w| w[0] <= w[1]),
        "monotone: {fractions:?}"
    );
    assert!(
        (fractions.last().unwrap() - 1.0).abs() < 1e-12,
        "progress ends at fraction 1, got {:?}",
        fractions.last()
    );
    // Cancel at the first report of the AP sweep, which comes when its first part has finished
    // (the sweep runs after the runs, AtP and IG of both prompts; its parts: layer 0's heads,
    // layer 0's neurons, then layer 1's). Natively the parts run on the CPU's threads: the part
    // under way finishes too, and no further one starts.
    let cancelled = run_study(&model, pairs, &config(), &mut |p| {
        p.stage != Stage::Scores(Method::Ap)
    })
    .unwrap();
    assert!(!cancelled.complete, "the cancelled study is not complete");
    assert_eq!(cancelled.prompts.len(), 2, "both prompts' runs finished");
    assert_eq!(of(&cancelled, Method::Ig).heads.len(), 2, "IG finished");
    assert_eq!(of(&cancelled, Method::Atp).heads.len(), 2, "AtP finished");
    let ap = of(&cancelled, Method::Ap);
    assert_eq!(ap.heads.len(), 1, "AP stopped in its first prompt");
    let finite = |row: &[f32]| row.iter().all(|x| x.is_finite());
    let missing = |row: &[f32]| row.iter().all(|x| x.is_nan());
    let (heads, neurons) = (&ap.heads[0], &ap.neurons[0]);
    assert!(finite(&heads[0]) || finite(&neurons[0]), "a part finished");
    assert!(
        missing(&heads[1]) && missing(&neurons[1]),
        "layer 1 never started"
    );
    assert!(
        heads.iter().chain(neurons).all(|r| finite(r) || missing(r)),
        "every AP row of the cancelled prompt is all scores or all NaN"
    );
    assert!(
        of(&cancelled, Method::Ig).heads[0]
            .iter()
            .flatten()
            .all(|x| x.is_finite()),
        "the first prompt's IG head scores are all finite (its IG finished)"
    );
    // Unfinished scores are written as null, finished ones as numbers (not the config's nulls).
    let json: serde_json::Value = serde_json::to_value(&cancelled).unwrap();
    let layer = |part: &str, l: usize| json["ap"][part][0][l].as_array().unwrap().clone();
    for part in ["heads", "neurons"] {
        assert!(
            layer(part, 1).iter().all(|x| x.is_null()),
            "ap.{part} of layer 1 (never started) is null in results.json"
        );
    }
    assert!(
        ["heads", "neurons"]
            .iter()
            .any(|p| layer(p, 0).iter().all(|x| x.is_f64())),
        "a finished row of layer 0 is numbers in results.json"
    );
}

#[test]
fn identical_clean_and_corrupted_prompts_do_not_crash() {
    let (model, pool) = setup();
    let mut pair = pool[0].clone();
    pair.corrupted_ids = pair.clean_ids.clone();
    pair.pair.corrupted = pair.pair.clean.clone();
    let r = run_study(&model, &[pair], &config(), &mut |_| true).unwrap();
    assert_eq!(r.clean_logit_diff, r.corrupted_logit_diff);
    // 0 / 0: no score, written as null.
    assert!(
        of(&r, Method::Ap).heads[0]
            .iter()
            .flatten()
            .all(|x| !x.is_finite()),
        "0/0 gives no AP score"
    );
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    let heads = json["ap"]["heads"][0].as_array().unwrap();
    assert!(
        heads
            .iter()
            .flat_map(|l| l.as_array().unwrap())
            .all(|x| x.is_null()),
        "every AP head score is null in results.json: {heads:?}"
    );
}

/// Records the methods that had finished at each `method_done`.
struct Snapshots(Vec<Vec<Method>>);

impl gradpatch_study::StudyObserver for Snapshots {
    fn report(&mut self, _: gradpatch_study::StudyProgress) -> bool {
        true
    }

    fn method_done(&mut self, results: &gradpatch_study::Results) {
        self.0.push(results.methods());
    }
}

/// AtP, then IG, then AP, each shown when done; with `positions`, every method's head
/// scores per position (ragged over prompts), AtP's and IG's summing to their head scores, AtP's
/// and AP's 0 before the first token where the prompts differ.
#[test]
fn methods_finish_in_order_and_positions_add_up() {
    let (model, pool) = setup();
    let mut lengths = std::collections::BTreeSet::new();
    let pairs: Vec<_> = pool
        .into_iter()
        .filter(|p| lengths.insert(p.clean_ids.len()))
        .take(2)
        .collect();
    let config = with_options(StudyOptions {
        positions: true,
        ig_steps: 8,
        ..StudyOptions::default()
    });
    let mut seen = Snapshots(Vec::new());
    let r = gradpatch_model::block_on(gradpatch_study::run_study_async(
        &model, &pairs, &config, &mut seen,
    ))
    .unwrap();
    assert_eq!(
        seen.0,
        [vec![Method::Atp], vec![Method::Atp, Method::Ig]],
        "AtP is shown first, then IG; AP ends the study"
    );
    assert_eq!(r.methods(), [Method::Atp, Method::Ig, Method::Ap]);
    let pairs_stats = r.stats_pairs.as_ref().expect("three methods ran");
    let pair = |a, b| MethodPair::of(a, b).unwrap();
    assert_eq!(
        pairs_stats.get(pair(Method::Ig, Method::Ap)),
        r.stats.as_ref(),
        "ig_ap is stats"
    );
    assert_eq!(pairs_stats.iter().count(), 3, "every pair");
    let c = &model.config;
    for method in [Method::Atp, Method::Ig, Method::Ap] {
        let pos = r
            .heads_pos(method)
            .unwrap_or_else(|| panic!("{method}: no heads_pos"));
        let heads = &of(&r, method).heads;
        assert_eq!(pos.len(), 2, "{method}: one entry per prompt");
        for (p, pair) in pairs.iter().enumerate() {
            let len = pair.clean_ids.len();
            let first_diff = pair
                .clean_ids
                .iter()
                .zip(&pair.corrupted_ids)
                .position(|(a, b)| a != b)
                .unwrap();
            assert_eq!(pos[p].len(), c.n_layers, "{method}");
            for l in 0..c.n_layers {
                assert_eq!(pos[p][l].len(), c.n_heads, "{method}");
                for h in 0..c.n_heads {
                    let terms = &pos[p][l][h];
                    assert_eq!(terms.len(), len, "{method}: S_p = the prompt's tokens");
                    // (IG's zero baseline differs from the input everywhere.)
                    assert!(
                        method == Method::Ig || terms[..first_diff].iter().all(|&x| x == 0.0),
                        "{method} L{l}H{h}: positions before {first_diff} are exactly 0"
                    );
                    if method != Method::Ap {
                        let sum: f32 = terms.iter().sum();
                        let score = heads[p][l][h];
                        assert!(
                            (sum - score).abs() <= 1e-4 * score.abs().max(1e-2),
                            "{method} L{l}H{h}: terms sum to {sum}, score {score}"
                        );
                    }
                }
            }
        }
    }
}

/// Results re-thresholded at another quantile equal a run at that quantile.
#[test]
fn a_quantile_changed_afterwards_equals_a_run_at_it() {
    let (model, pool) = setup();
    let pairs = &pool[..2];
    let fast = StudyOptions {
        ig_steps: 4,
        positions: false,
        ..StudyOptions::default()
    };
    let at_09 = run_study(&model, pairs, &with_options(fast.clone()), &mut |_| true).unwrap();
    let at_08 = run_study(
        &model,
        pairs,
        &with_options(StudyOptions {
            percentile: 0.8,
            ..fast
        }),
        &mut |_| true,
    )
    .unwrap();
    let changed = at_09.at_percentile(0.8);
    assert_eq!(changed.config, at_08.config);
    assert_eq!(changed.stats, at_08.stats, "IG-AP statistics");
    assert_eq!(
        changed.stats_pairs, at_08.stats_pairs,
        "every pair's statistics"
    );
    assert_ne!(changed.stats, at_09.stats, "the quantile matters");
}

/// With faithfulness, every method's curves of heads (k = 0 … all) and neurons, and the random
/// band, for every prompt: from 0 (no head) to 1 (all), each method's curve the faithfulness of
/// its own ranking, the band ordered; results.json keeps them; a cancel keeps what finished.
#[test]
fn faithfulness_curves_follow_each_methods_ranking() {
    use gradpatch_methods::faithfulness::{random_ranking, random_seed};
    use gradpatch_methods::{NoProgress, faithfulness};
    use gradpatch_study::faithfulness::ranking;
    use gradpatch_terms::{ComponentKind, RANDOM_RANKINGS, Ranking};
    let (model, pool) = setup();
    let pairs = &pool[..2];
    let config = with_options(StudyOptions {
        ig_steps: 4,
        positions: false,
        faithfulness: Some(Ranking::Abs),
        ..StudyOptions::default()
    });
    let r = run_study(&model, pairs, &config, &mut |_| true).unwrap();
    assert!(r.complete);
    let f = r.faithfulness.as_ref().expect("curves");
    let c = &model.config;
    let n = c.n_layers * c.n_heads;
    assert_eq!(f.k.heads, (0..=n).collect::<Vec<_>>());
    assert_eq!(f.methods.len(), 3);
    assert_eq!(f.random.rankings, RANDOM_RANKINGS);
    for (m, curves) in &f.methods {
        assert_eq!(curves.heads.len(), 2, "{m}: a row per prompt");
        for (p, row) in curves.heads.iter().enumerate() {
            assert_eq!(
                (row[0], row[n]),
                (0.0, 1.0),
                "{m} prompt {p}: no head 0, all heads 1"
            );
        }
        assert_eq!(curves.neurons[0].last(), Some(&1.0), "{m}: all neurons 1");
    }
    // AP's head curve of prompt 1 is the faithfulness of AP's ranking of prompt 1.
    let runs = PromptRuns::new(&model, &pairs[1]).unwrap();
    let order = ranking(&of(&r, Method::Ap).heads[1].concat(), false);
    let sets: Vec<Vec<usize>> = (0..=n).map(|k| order[..k].to_vec()).collect();
    let (direct, _) =
        faithfulness(&model, &runs, ComponentKind::Heads, &sets, &mut NoProgress).unwrap();
    assert_eq!(f.methods[&Method::Ap].heads[1], direct);
    // The band: p05 ≤ mean ≤ p95, and its first random ranking's point as computed directly.
    let band = &f.random.heads;
    for p in 0..2 {
        for j in 0..f.random.k.heads.len() {
            let (lo, mid, hi) = (band.p05[p][j], band.mean[p][j], band.p95[p][j]);
            assert!(
                lo <= mid + 1e-6 && mid <= hi + 1e-6,
                "prompt {p} k {j}: {lo} {mid} {hi}"
            );
        }
    }
    let k = f.random.k.heads[3];
    let order = random_ranking(n, random_seed(&r.prompts[1].clean_token_ids, 0));
    let (one, _) = faithfulness(
        &model,
        &runs,
        ComponentKind::Heads,
        &[order[..k].to_vec()],
        &mut NoProgress,
    )
    .unwrap();
    assert!(band.p05[1][3] <= one[0] + 1e-6 && one[0] <= band.p95[1][3] + 1e-6);
    // Its mean is the mean over all the random rankings.
    let draws: Vec<Vec<usize>> = (0..RANDOM_RANKINGS)
        .map(|d| random_ranking(n, random_seed(&r.prompts[1].clean_token_ids, d))[..k].to_vec())
        .collect();
    let (values, _) =
        faithfulness(&model, &runs, ComponentKind::Heads, &draws, &mut NoProgress).unwrap();
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / RANDOM_RANKINGS as f64;
    assert!(
        (f64::from(band.mean[1][3]) - mean).abs() < 1e-6,
        "{} vs {mean}",
        band.mean[1][3]
    );
    // results.json keeps the curves and opens again.
    let json = serde_json::to_vec(&r).unwrap();
    let back = Results::from_json(&json).unwrap();
    assert_eq!(back.faithfulness, r.faithfulness);
    let summary = f.summary(Method::Ap, ComponentKind::Heads, 0.9).unwrap();
    assert!(
        summary.area.is_finite() && summary.highlighted == 1,
        "{summary:?}"
    );
    // Cancelled in the faithfulness pass: the methods' scores stay, the curves are partial.
    let cancelled = run_study(&model, pairs, &config, &mut |p| {
        p.stage != Stage::Faithfulness
    })
    .unwrap();
    assert!(!cancelled.complete);
    assert_eq!(of(&cancelled, Method::Ap).heads.len(), 2);
    assert!(cancelled.faithfulness.is_some());
}
