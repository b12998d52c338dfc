//! The IOI generator: deterministic for a seed, both name orders, several template lengths, one
//! token names, equal clean/corrupted lengths, and the two corruptions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_dataset::{Corruption, Gpt2Tokenizer, generate_ioi};
use gradpatch_testdata::{model_a_dir, read, shared_dir};

fn gpt2() -> Gpt2Tokenizer {
    Gpt2Tokenizer::from_bytes(&read(
        shared_dir().join("reference/gpt2-tokenizer/tokenizer.json"),
    ))
    .unwrap()
}

#[test]
fn deterministic_varied_and_valid() {
    let tok = gpt2();
    let a = generate_ioi(200, 7, Corruption::Aba, &tok, 1024).unwrap();
    assert_eq!(
        a,
        generate_ioi(200, 7, Corruption::Aba, &tok, 1024).unwrap()
    );
    assert_ne!(
        a,
        generate_ioi(200, 8, Corruption::Aba, &tok, 1024).unwrap()
    );
    let lengths: std::collections::BTreeSet<usize> = a.iter().map(|p| p.clean_ids.len()).collect();
    assert!(lengths.len() >= 4, "several lengths: {lengths:?}");
    let (mut abba, mut baba) = (0, 0);
    for p in &a {
        assert_eq!(p.clean_ids.len(), p.corrupted_ids.len());
        assert_ne!(p.correct_id, p.incorrect_id);
        let io = p.pair.clean.find(&p.pair.correct).unwrap();
        let s = p.pair.clean.find(&p.pair.incorrect).unwrap();
        if io < s {
            abba += 1
        } else {
            baba += 1
        }
        // aba: S2 becomes the indirect object; exactly one position differs.
        let diff = p
            .clean_ids
            .iter()
            .zip(&p.corrupted_ids)
            .filter(|(x, y)| x != y)
            .count();
        assert_eq!(diff, 1);
        assert!(
            p.pair.corrupted.matches(&p.pair.correct).count() == 2,
            "the correct name appears twice in the aba-corrupted prompt: {:?}",
            p.pair.corrupted
        );
    }
    assert!(
        abba > 60 && baba > 60,
        "both orders: {abba} ABBA, {baba} BABA"
    );
    assert!(
        lengths.contains(&18),
        "an 18-token template exists (the benchmark prompt): {lengths:?}"
    );
}

#[test]
fn abc_uses_a_third_name() {
    let tok = gpt2();
    for p in generate_ioi(50, 1, Corruption::Abc, &tok, 1024).unwrap() {
        assert_ne!(p.pair.clean, p.pair.corrupted);
        assert_eq!(
            p.pair.corrupted.matches(&p.pair.correct).count(),
            1,
            "{}",
            p.pair.corrupted
        );
        assert_eq!(
            p.pair.corrupted.matches(&p.pair.incorrect).count(),
            1,
            "{}",
            p.pair.corrupted
        );
        assert_eq!(p.clean_ids.len(), p.corrupted_ids.len());
    }
}

#[test]
fn small_vocabularies_use_their_one_token_names() {
    let tok = Gpt2Tokenizer::from_bytes(&read(model_a_dir().join("tokenizer.json"))).unwrap();
    let pairs = generate_ioi(20, 3, Corruption::Aba, &tok, 64).unwrap();
    assert_eq!(pairs.len(), 20);
    let e = generate_ioi(5, 3, Corruption::Aba, &tok, 10).unwrap_err();
    assert!(
        e.to_string()
            .contains("longer than the model's context of 10"),
        "{e}"
    );
}
