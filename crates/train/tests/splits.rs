//! The demo model's IOI splits and template grammar: the held-out and hand-written splits share
//! no name or template with training, the hand-written templates differ in structure from every
//! training template, and the grammar samples only its own templates, of every kind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_dataset::{Corruption, Gpt2Tokenizer, generate_ioi};
use gradpatch_testdata::{read, shared_dir};
use gradpatch_train::Split;

fn gpt2() -> Gpt2Tokenizer {
    Gpt2Tokenizer::from_bytes(&read(
        shared_dir().join("reference/gpt2-tokenizer/tokenizer.json"),
    ))
    .unwrap()
}

#[test]
fn standard_pools_give_the_standard_generator() {
    use gradpatch_dataset::generate_ioi_from;
    let tok = gpt2();
    assert_eq!(
        generate_ioi_from(
            &Split::Standard.pools(),
            50,
            11,
            Corruption::Abc,
            &tok,
            1024
        )
        .unwrap(),
        generate_ioi(50, 11, Corruption::Abc, &tok, 1024).unwrap()
    );
}

#[test]
fn held_out_split_shares_no_name_or_template_with_training() {
    use std::collections::BTreeSet;
    let train = Split::Train.pools();
    let held = Split::HeldOut.pools();
    let standard = Split::Standard.pools();
    let hand = Split::HandWritten.pools();
    assert_eq!(
        hand.names, held.names,
        "the hand-written split uses the held-out names"
    );
    assert!(
        train.templates.len() > 10_000,
        "the grammar makes many templates: {}",
        train.templates.len()
    );
    let set = |v: &[&'static str]| v.iter().copied().collect::<BTreeSet<_>>();
    let templates = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
    for pools in [&train, &held] {
        assert_eq!(set(&pools.names).len(), pools.names.len(), "unique names");
        assert_eq!(templates(&pools.templates).len(), pools.templates.len());
        for name in &pools.names {
            assert!(
                name.starts_with(' ') && !name[1..].contains(' '),
                "{name:?}"
            );
        }
    }
    assert!(
        set(&train.names).is_disjoint(&set(&held.names)),
        "the train and held-out names are disjoint"
    );
    assert!(
        templates(&train.templates).is_disjoint(&templates(&held.templates)),
        "the train and held-out templates are disjoint"
    );
    assert_eq!(templates(&hand.templates).len(), hand.templates.len());
    assert!(
        templates(&train.templates).is_disjoint(&templates(&hand.templates))
            && templates(&held.templates).is_disjoint(&templates(&hand.templates)),
        "the hand-written templates are in no other split"
    );
    for t in &hand.templates {
        let (a, b, s2) = (t.find("{A}"), t.find("{B}"), t.find("{S2}"));
        assert!(a.is_some() && a < b && b < s2, "A, B, S2 in order: {t:?}");
        assert!(!t.ends_with(' ') && !t.contains("  "), "spacing: {t:?}");
    }
    assert!(
        set(&standard.names).is_subset(&set(&train.names)),
        "the standard names are among the train names"
    );
    assert!(
        templates(&standard.templates).is_subset(&templates(&train.templates)),
        "the standard templates are among the train templates"
    );
    // Held-out prompts are valid IOI pairs (GPT-2 has most of these names as one token).
    let tok = gpt2();
    let pairs =
        gradpatch_dataset::generate_ioi_from(&held, 40, 2, Corruption::Aba, &tok, 1024).unwrap();
    for p in &pairs {
        assert!(
            held.names.contains(&p.pair.correct.as_str()),
            "the answer {:?} is a held-out name",
            p.pair.correct
        );
        assert_eq!(p.clean_ids.len(), p.corrupted_ids.len());
    }
}

/// Words and placeholders of a template, in order (`,` and `.` count as words).
fn units(template: &str) -> Vec<String> {
    let spaced = template
        .replace('{', " {")
        .replace('}', "} ")
        .replace(',', " , ")
        .replace('.', " . ");
    spaced.split_whitespace().map(str::to_string).collect()
}

/// The longest run of `a`'s units that also occurs, in a row, in `b`.
fn longest_common_run(a: &[String], b: &[String]) -> usize {
    let mut best = 0;
    let mut prev = vec![0usize; b.len() + 1];
    for x in a {
        let mut row = vec![0usize; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            if x == y {
                row[j + 1] = prev[j] + 1;
                best = best.max(row[j + 1]);
            }
        }
        prev = row;
    }
    best
}

/// "Differs in structure", measured: no run of more than half of a hand-written template's
/// words and placeholders occurs in a row in any training template, so the opening, the link to
/// S2 and the action cannot all be borrowed.
#[test]
fn hand_written_templates_differ_in_structure_from_every_training_template() {
    let train: Vec<Vec<String>> = Split::Train
        .pools()
        .templates
        .iter()
        .map(|t| units(t))
        .collect();
    for template in Split::HandWritten.pools().templates {
        let mine = units(&template);
        let (worst, closest) = train
            .iter()
            .map(|t| (longest_common_run(&mine, t), t))
            .max_by_key(|(n, _)| *n)
            .unwrap();
        assert!(
            2 * worst <= mine.len(),
            "{template:?} shares a run of {worst} of its {} units with the training template {:?}",
            mine.len(),
            closest.join(" ")
        );
    }
}

#[test]
fn the_grammar_samples_only_its_own_templates_and_all_kinds_of_them() {
    use gradpatch_dataset::ioi::SplitMix;
    use gradpatch_train::grammar::{FILLERS, PRELUDES, SUBORDINATE, all, sample};
    use std::collections::BTreeSet;
    let every: BTreeSet<String> = all().into_iter().collect();
    let mut rng = SplitMix::new(3);
    let drawn: Vec<String> = (0..5000).map(|_| sample(&mut rng)).collect();
    for t in &drawn {
        assert!(every.contains(t), "sampled but not listed: {t:?}");
    }
    let share = |f: &dyn Fn(&String) -> bool| {
        drawn.iter().filter(|t| f(t)).count() as f64 / drawn.len() as f64
    };
    let subordinate = share(&|t| SUBORDINATE.iter().any(|s| t.contains(s)));
    assert!((0.25..0.35).contains(&subordinate), "{subordinate}");
    let prelude = share(&|t| PRELUDES.iter().any(|p| t.starts_with(p)));
    assert!((0.15..0.25).contains(&prelude), "{prelude}");
    let filler = share(&|t| FILLERS.iter().any(|f| t.contains(f)));
    assert!((0.2..0.3).contains(&filler), "{filler}");
    let distinct: BTreeSet<&String> = drawn.iter().collect();
    assert!(distinct.len() > 3000, "{} distinct of 5000", distinct.len());
}
