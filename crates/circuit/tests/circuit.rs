//! The circuit file (the bundled IOI circuit, and bad files refused naming the entry), the IOI
//! positions of every template and of custom pairs, and the scoreboard on hand-computed cases.

use gradpatch_circuit::{
    Circuit, CircuitError, IoiPositions, Missing, Position, ioi_gpt2_small, scoreboard,
};
use gradpatch_dataset::ioi::{TEMPLATES, fill};
use gradpatch_dataset::{Gpt2Tokenizer, TokenizedPair};
use gradpatch_study::{MethodScores, PromptRecord, Results, StudyConfig};
use gradpatch_terms::{Method, Processing, PromptPair, StudyOptions};

fn tokenizer() -> Gpt2Tokenizer {
    let path = gradpatch_testdata::shared_dir().join("reference/gpt2-tokenizer/tokenizer.json");
    match Gpt2Tokenizer::from_bytes(&gradpatch_testdata::read(path)) {
        Ok(t) => t,
        Err(e) => panic!("the shared GPT-2 tokenizer: {e}"),
    }
}

fn record(pair: &PromptPair, tok: &Gpt2Tokenizer) -> PromptRecord {
    let t = match TokenizedPair::new(pair, tok, 1024) {
        Ok(t) => t,
        Err(e) => panic!("{pair:?}: {e}"),
    };
    PromptRecord {
        labels: t.labels(),
        pair: t.pair,
        clean_token_ids: t.clean_ids,
        clean_tokens: t.clean_tokens,
        corrupted_token_ids: t.corrupted_ids,
    }
}

fn parse(json: &str) -> Result<Circuit, CircuitError> {
    Circuit::parse(json.as_bytes())
}

#[test]
fn the_bundled_ioi_circuit() {
    let c = ioi_gpt2_small()
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.size(), 26);
    assert_eq!(c.classes.len(), 7);
    let strict = &c.variants[0];
    assert_eq!((strict.name.as_str(), strict.drop.len()), ("strict", 3));
    assert_eq!(c.true_edges.len(), 15);
    assert!(
        c.published
            .iter()
            .any(|(m, auc)| m == "ACDC" && (auc - 0.873).abs() < 1e-12)
    );
    let nm = &c.classes[0];
    assert_eq!(
        (nm.name.as_str(), nm.acts_at, nm.heads[0]),
        ("name mover", Position::End, (9, 9))
    );
    assert_eq!(
        c.class_of((2, 2)).map(|(_, k)| k.acts_at),
        Some(Position::S1Plus1)
    );
    assert!(c.check_fits(12, 12).is_ok());
    // GPT-2 small's circuit on the demo model (3 layers × 4 heads) is refused, naming a head.
    let err = c.check_fits(3, 4).map_err(|e| e.to_string());
    assert_eq!(
        err,
        Err("class “name mover”: head L9H9 is outside the model (3 layers × 4 heads)".into())
    );
}

#[test]
fn bad_circuit_files_are_refused_naming_the_entry() {
    let cases: [(&str, &str); 10] = [
        (r#"{"classes": []}"#, "has no classes"),
        (
            r#"{"classes": [{"name": "a", "acts_at": "S3", "heads": [[0, 1]]}]}"#,
            "class “a”: unknown position “S3”",
        ),
        (
            r#"{"classes": [{"name": "a", "acts_at": "END", "heads": [[0, -1]]}]}"#,
            "class “a”: head [0,-1] is not a [layer, head] pair",
        ),
        (
            r#"{"classes": [{"name": "a", "acts_at": "END", "heads": [[0, 1, 2]]}]}"#,
            "class “a”: head [0,1,2]",
        ),
        (
            r#"{"classes": [{"name": "a", "acts_at": "END", "heads": [[0, 1]]}, {"name": "b", "acts_at": 3, "heads": [[0, 1]]}]}"#,
            "head L0H1 is in both “a” and “b”",
        ),
        (
            r#"{"classes": [{"name": "a", "acts_at": "END", "heads": []}]}"#,
            "class “a” has no heads",
        ),
        (
            r#"{"classes": [{"name": " ", "acts_at": "END", "heads": [[0, 0]]}]}"#,
            "a class: the name is empty",
        ),
        (
            r#"{"classes": [{"name": "a", "acts_at": "END", "heads": [[0, 0]]}], "strict_variant": {"drop": [[1, 1]]}}"#,
            "variant “strict” drops L1H1, which is not in the circuit",
        ),
        (
            r#"{"classes": [{"name": "a", "acts_at": "END", "heads": [[0, 0]]}], "true_edges": {"edges": [["INPUT", "b", "q"]]}}"#,
            "true edge 0: “b” is neither a class",
        ),
        (
            r#"{"format_version": 2, "classes": []}"#,
            "format_version 2",
        ),
    ];
    for (json, expected) in cases {
        let err = parse(json).map(|_| ()).map_err(|e| e.to_string());
        assert!(
            matches!(&err, Err(m) if m.contains(expected)),
            "{json}: {err:?}, expected “{expected}”"
        );
    }
    // Absurd sizes: a file over the cap, and more heads than any model has, before parsing them.
    let huge = vec![b' '; gradpatch_circuit::file::MAX_CIRCUIT_BYTES + 1];
    assert!(matches!(
        Circuit::parse(&huge),
        Err(CircuitError::TooLarge { .. })
    ));
    let heads: Vec<String> = (0..5000)
        .map(|i| format!("[{}, {}]", i / 100, i % 100))
        .collect();
    let many = format!(
        r#"{{"classes": [{{"name": "a", "acts_at": "END", "heads": [{}]}}]}}"#,
        heads.join(",")
    );
    assert!(matches!(
        parse(&many),
        Err(CircuitError::TooMany {
            what: "heads",
            found: 5000,
            ..
        })
    ));
    assert!(matches!(parse("not json"), Err(CircuitError::Json(_))));
}

/// The expected IOI positions of `template` filled with IO and S, from tokenizing its prefixes
/// (an independent route: where each placeholder ends).
fn expected_positions(
    template: &str,
    first: &str,
    second: &str,
    s: &str,
    tok: &Gpt2Tokenizer,
) -> (usize, usize, usize) {
    let count = |text: &str| tok.to_tokens(text).map(|t| t.len()).unwrap_or(0);
    let at = |placeholder: &str| {
        let cut = template.find(placeholder).unwrap_or(0) + placeholder.len();
        let prefix = fill(&template[..cut], first, second, s, " store", " drink");
        count(&prefix) - 1
    };
    let (a, b, s2) = (at("{A}"), at("{B}"), at("{S2}"));
    if first == s { (a, s2, b) } else { (b, s2, a) }
}

#[test]
fn ioi_positions_of_every_template_in_both_orders() {
    let tok = tokenizer();
    for template in TEMPLATES {
        for (first, second) in [(" Mary", " John"), (" John", " Mary")] {
            let (io, s) = (" Mary", " John");
            let pair = PromptPair {
                clean: fill(template, first, second, s, " store", " drink"),
                corrupted: fill(template, first, second, " Anna", " store", " drink"),
                correct: io.into(),
                incorrect: s.into(),
            };
            let r = record(&pair, &tok);
            let p = IoiPositions::locate(&r).unwrap_or_else(|e| panic!("{}: {e:?}", pair.clean));
            let (s1, s2, io_at) = expected_positions(template, first, second, s, &tok);
            assert_eq!(p.end, r.clean_token_ids.len() - 1);
            assert_eq!(p.index(Position::S1), Ok(s1), "{}", pair.clean);
            assert_eq!(p.index(Position::S2), Ok(s2), "{}", pair.clean);
            assert_eq!(p.index(Position::S1Plus1), Ok(s1 + 1), "{}", pair.clean);
            assert_eq!(p.index(Position::Io), Ok(io_at), "{}", pair.clean);
            assert_eq!(r.clean_tokens[s2].trim(), "John");
            // S2 is where the corruption changes the prompt.
            assert_ne!(r.clean_token_ids[s2], r.corrupted_token_ids[s2]);
        }
    }
}

#[test]
fn ioi_positions_of_custom_pairs_or_why_not() {
    let tok = tokenizer();
    // A name starting the prompt is another token than " Alice": found by its text.
    let pair = PromptPair {
        clean: "Alice and Bob went out. Alice thanked".into(),
        corrupted: "Alice and Bob went out. Carl thanked".into(),
        correct: " Bob".into(),
        incorrect: " Alice".into(),
    };
    let r = record(&pair, &tok);
    let p = IoiPositions::locate(&r).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(r.clean_tokens[1], "Alice");
    assert_eq!(
        (
            p.index(Position::S1),
            p.index(Position::S2),
            p.index(Position::Io)
        ),
        (Ok(1), Ok(7), Ok(3))
    );
    assert_eq!(p.index(Position::Index(2)), Ok(2));
    assert_eq!(
        p.index(Position::Index(99)),
        Err(Missing::Beyond {
            len: r.clean_token_ids.len()
        })
    );
    // A pair that mentions its subject once: S1 and S2 are not available, and it says why.
    let once = PromptPair {
        clean: "The cat sat on the mat and then the".into(),
        corrupted: "The dog sat on the mat and then the".into(),
        correct: " dog".into(),
        incorrect: " cat".into(),
    };
    let p = IoiPositions::locate(&record(&once, &tok)).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(p.index(Position::S2), Err(Missing::Mentions { found: 1 }));
    let why = Missing::Mentions { found: 1 }.explain(Position::S2, 4);
    assert!(
        why.starts_with("prompt 4: the wrong answer (the subject) is mentioned 1 times"),
        "{why}"
    );
    assert_eq!(p.index(Position::End), Ok(p.end));
}

/// Results with one method's head scores `[P][2][2]` and, optionally, per position.
fn results(
    heads: Vec<Vec<Vec<f32>>>,
    heads_pos: Option<Vec<Vec<Vec<Vec<f32>>>>>,
    prompts: Vec<PromptRecord>,
) -> Results {
    let config = StudyConfig {
        model: "test".into(),
        processing: Processing::default(),
        options: StudyOptions::default(),
        prompts_source: serde_json::json!({"custom": prompts.len()}),
        backend: "none".into(),
    };
    let mut r = Results::empty(config);
    r.prompts = prompts;
    r.scores.insert(
        Method::Ap,
        MethodScores {
            heads,
            heads_pos,
            ..MethodScores::default()
        },
    );
    r
}

fn circuit(classes: &str) -> Circuit {
    parse(&format!(
        r#"{{"classes": [{classes}], "strict_variant": {{"drop": [[0, 0]]}}}}"#
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn scoreboard_of_hand_computed_cases() {
    // Means over the two prompts: L0H0 3, L0H1 -2 (|2|), L1H0 1, L1H1 0.5; the second prompt's
    // gap (a cancelled run) leaves it out.
    let heads = vec![
        vec![vec![3.0, -2.0], vec![1.0, 0.5]],
        vec![vec![3.0, -2.0], vec![1.0, 0.5]],
        vec![vec![f32::NAN, 0.0], vec![0.0, 0.0]],
    ];
    let r = results(heads, None, Vec::new());
    let c = circuit(
        r#"{"name": "a", "acts_at": "END", "heads": [[0, 0], [1, 0]]}, {"name": "b", "acts_at": "S2", "heads": [[1, 1]]}"#,
    );
    let board = scoreboard(&r, &c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((board.circuit_size, board.ks.clone()), (3, vec![3]));
    let m = &board.methods[0];
    assert_eq!(m.prompts, 2);
    // Circuit {3, 1, 0.5} against {2}: 3 > 2, 1 < 2, 0.5 < 2 → 1/3.
    let circuit_row = &m.sets[0];
    assert_eq!(circuit_row.name, "circuit");
    assert!((circuit_row.auc.unwrap_or(f64::NAN) - 1.0 / 3.0).abs() < 1e-12);
    // Top 3: L0H0, L0H1, L1H0 → 2 of 3 in the circuit, 2 of its 3 found.
    let at3 = circuit_row.at_k[0];
    assert_eq!(
        (at3.k, at3.precision, at3.recall),
        (3, 2.0 / 3.0, 2.0 / 3.0)
    );
    // The strict variant drops L0H0: {1, 0.5} against {3, 2} → 0.
    assert_eq!(
        (m.sets[1].name.as_str(), m.sets[1].size, m.sets[1].auc),
        ("variant strict", 2, Some(0.0))
    );
    // A class of one head: L1H1 (0.5) is below all three others → 0.
    assert_eq!(
        (m.sets[3].name.as_str(), m.sets[3].auc),
        ("class b", Some(0.0))
    );
    assert!(
        m.per_position
            .as_ref()
            .is_err_and(|e| e.contains("no scores per position"))
    );

    // Ties: all four heads equal → 0.5; a circuit of all heads has no AUC but precision 1.
    let flat = results(vec![vec![vec![1.0, 1.0], vec![1.0, 1.0]]], None, Vec::new());
    let board = scoreboard(&flat, &c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(board.methods[0].sets[0].auc, Some(0.5));
    let all =
        circuit(r#"{"name": "a", "acts_at": "END", "heads": [[0, 0], [0, 1], [1, 0], [1, 1]]}"#);
    let board = scoreboard(&flat, &all).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(board.ks, vec![3, 4]);
    let row = &board.methods[0].sets[0];
    assert_eq!(row.auc, None);
    assert_eq!((row.at_k[1].precision, row.at_k[1].recall), (1.0, 1.0));
    // A circuit outside the results' heads is refused.
    let outside = circuit(r#"{"name": "a", "acts_at": "END", "heads": [[0, 0], [2, 0]]}"#);
    assert!(matches!(
        scoreboard(&flat, &outside),
        Err(CircuitError::OutsideModel { head: (2, 0), .. })
    ));
}

#[test]
fn per_position_auc_scores_each_circuit_head_at_its_class_position() {
    let tok = tokenizer();
    let pair = PromptPair {
        clean: "When Mary and John went to the store, John gave a drink to".into(),
        corrupted: "When Mary and John went to the store, Anna gave a drink to".into(),
        correct: " Mary".into(),
        incorrect: " John".into(),
    };
    let r0 = record(&pair, &tok);
    let n = r0.clean_token_ids.len();
    let p = IoiPositions::locate(&r0).unwrap_or_else(|e| panic!("{e:?}"));
    let (s2, end) = (p.index(Position::S2).unwrap_or(0), p.end);
    // Circuit: L0H0 acts at S2, L1H1 at END. Per position, L0H0 is 5 at S2 (0 elsewhere), L1H1
    // is 4 at END; L0H1 is 3 at END (an outsider, scored at its best named position), L1H0 is
    // 9 at a token no class uses (not counted). Summed over positions, L1H0 ranks first.
    let mut pos = vec![vec![vec![0.0f32; n]; 2]; 2];
    pos[0][0][s2] = 5.0;
    pos[1][1][end] = 4.0;
    pos[0][1][end] = 3.0;
    pos[1][0][1] = 9.0;
    let heads = vec![vec![vec![5.0, 3.0], vec![9.0, 4.0]]];
    let r = results(heads, Some(vec![pos]), vec![r0]);
    let c = circuit(
        r#"{"name": "a", "acts_at": "S2", "heads": [[0, 0]]}, {"name": "b", "acts_at": "END", "heads": [[1, 1]]}"#,
    );
    let board = scoreboard(&r, &c).unwrap_or_else(|e| panic!("{e}"));
    let m = &board.methods[0];
    // Whole-prompt scores {5, 4} vs {3, 9}: 5>3, 4>3 → 2 of 4 → 0.5.
    assert_eq!(m.sets[0].auc, Some(0.5));
    // Per position {5, 4} vs {3, 0}: all four won → 1.
    assert_eq!(m.per_position, Ok(1.0));
    // A class at a position the prompt lacks: no per-position AUC, and the reason.
    let beyond = circuit(
        r#"{"name": "a", "acts_at": "S1+1", "heads": [[0, 0]]}, {"name": "b", "acts_at": 40, "heads": [[1, 1]]}"#,
    );
    let board = scoreboard(&r, &beyond).unwrap_or_else(|e| panic!("{e}"));
    let why = board.methods[0]
        .per_position
        .clone()
        .err()
        .unwrap_or_default();
    assert!(why.contains("token 40 is beyond its"), "{why}");
}
