//! Tokenizer parity with the reference token ids (mini IOI tokenizer and full GPT-2), and the
//! prompt-file validation errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_dataset::{DatasetError, Gpt2Tokenizer, parse_prompt_pairs, tokenize_pairs};
use gradpatch_testdata::{at, model_a_dir, prompt_ids, prompts, read, shared_dir};

fn mini() -> Gpt2Tokenizer {
    Gpt2Tokenizer::from_bytes(&read(model_a_dir().join("tokenizer.json"))).unwrap()
}

fn gpt2() -> Gpt2Tokenizer {
    Gpt2Tokenizer::from_bytes(&read(
        shared_dir().join("reference/gpt2-tokenizer/tokenizer.json"),
    ))
    .unwrap()
}

fn text(i: usize, field: &str) -> String {
    at(prompts(), &format!("prompts/{i}/{field}"))
        .as_str()
        .unwrap()
        .to_string()
}

fn n_prompts() -> usize {
    at(prompts(), "prompts").as_array().unwrap().len()
}

#[test]
fn mini_tokenizer_matches_reference_ids() {
    let tok = mini();
    assert_eq!(tok.bos_id(), 460);
    for i in 0..n_prompts() {
        assert_eq!(
            tok.to_tokens(&text(i, "clean")).unwrap(),
            prompt_ids(i, "clean_token_ids"),
            "prompt {i}"
        );
        assert_eq!(
            tok.to_tokens(&text(i, "corrupted")).unwrap(),
            prompt_ids(i, "corrupted_token_ids"),
            "prompt {i}"
        );
        let labels = prompt_ids(i, "labels");
        assert_eq!(tok.single_token(&text(i, "io_name")).unwrap(), labels[0]);
        assert_eq!(tok.single_token(&text(i, "s_name")).unwrap(), labels[1]);
    }
}

#[test]
fn full_gpt2_tokenizer_matches_reference_ids() {
    let tok = gpt2();
    assert_eq!(tok.bos_id(), 50256);
    assert_eq!(tok.vocab_size(), 50257);
    for i in 0..n_prompts() {
        assert_eq!(
            tok.to_tokens(&text(i, "clean")).unwrap(),
            prompt_ids(i, "clean_token_ids_gpt2"),
            "prompt {i}"
        );
        assert_eq!(
            tok.to_tokens(&text(i, "corrupted")).unwrap(),
            prompt_ids(i, "corrupted_token_ids_gpt2"),
            "prompt {i}"
        );
        let labels = prompt_ids(i, "labels_gpt2_ids");
        assert_eq!(tok.single_token(&text(i, "io_name")).unwrap(), labels[0]);
    }
    let strings = tok.token_strings(&tok.to_tokens("When Mary and John").unwrap());
    assert_eq!(strings, ["<|endoftext|>", "When", "ĠMary", "Ġand", "ĠJohn"]);
}

#[test]
fn answers_must_be_one_token() {
    let tok = gpt2();
    assert_eq!(
        tok.single_token(" Mary").unwrap(),
        tok.encode(" Mary").unwrap()[0]
    );
    let e = tok.single_token(" Mary Jane").unwrap_err();
    assert!(
        matches!(e, DatasetError::NotOneToken { n_tokens: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("exactly one"), "{e}");
    assert!(
        matches!(
            tok.single_token(""),
            Err(DatasetError::NotOneToken { n_tokens: 0, .. })
        ),
        "an empty answer is NotOneToken with 0 tokens"
    );
}

#[test]
fn bad_tokenizer_json_is_an_error() {
    assert!(
        matches!(
            Gpt2Tokenizer::from_bytes(b"{nope"),
            Err(DatasetError::Tokenizer(_))
        ),
        "malformed tokenizer JSON is a Tokenizer error"
    );
}

fn pair(clean: &str, corrupted: &str, correct: &str, incorrect: &str) -> String {
    serde_json::json!([{"clean": clean, "corrupted": corrupted, "correct": correct, "incorrect": incorrect}]).to_string()
}

fn prompt_error(json: &str, n_ctx: usize) -> String {
    let tok = gpt2();
    let result = parse_prompt_pairs(json.as_bytes()).and_then(|p| tokenize_pairs(&p, &tok, n_ctx));
    result.expect_err("must be refused").to_string()
}

#[test]
fn prompt_file_errors_name_the_prompt_and_the_problem() {
    let good_clean = "When Mary and John went to the store, John gave a drink to";
    let good_corrupt = "When Mary and John went to the store, Mary gave a drink to";
    let ok = pair(good_clean, good_corrupt, " Mary", " John");
    let pairs = parse_prompt_pairs(ok.as_bytes()).unwrap();
    let tok = gpt2();
    let t = tokenize_pairs(&pairs, &tok, 1024).unwrap();
    assert_eq!(t[0].clean_ids.len(), t[0].corrupted_ids.len());
    assert_eq!(t[0].shared_prefix_len(), 10);

    let cases: Vec<(String, usize, &str)> = vec![
        (
            r#"[{"clean": "a", "corrupted": "b", "correct": " Mary"}]"#.into(),
            1024,
            "prompt 0: missing field \"incorrect\"",
        ),
        (
            pair(good_clean, good_corrupt, " Mary Jane", " John"),
            1024,
            "exactly one",
        ),
        (
            pair("", good_corrupt, " Mary", " John"),
            1024,
            "the clean prompt is empty",
        ),
        (
            pair(good_clean, "   ", " Mary", " John"),
            1024,
            "the corrupted prompt is empty",
        ),
        (
            pair(good_clean, good_corrupt, " Mary", " John"),
            8,
            "longer than the model's context of 8",
        ),
        (
            pair(good_clean, "When Mary went to the store", " Mary", " John"),
            1024,
            "same number of tokens",
        ),
        ("{not json".into(), 1024, "not valid JSON"),
        (r#"{"clean": "x"}"#.into(), 1024, "must be a JSON list"),
        ("[]".into(), 1024, "an empty list"),
        (
            r#"[{"clean": 3, "corrupted": "b", "correct": " a", "incorrect": " b"}]"#.into(),
            1024,
            "must be a string, found a number",
        ),
        (
            r#"[{"clean": "a", "corrupted": "b", "correct": " a", "incorrect": " b", "x": 1}]"#
                .into(),
            1024,
            "unknown field \"x\"",
        ),
    ];
    for (json, n_ctx, expected) in cases {
        let e = prompt_error(&json, n_ctx);
        assert!(e.contains(expected), "{json}: {e}");
    }
    // Unknown characters are fine: byte-level BPE covers every string.
    let exotic = pair("Ünïcødé ✓ and Mary", "Ünïcødé ✓ and John", " Mary", " John");
    let tok_pairs = parse_prompt_pairs(exotic.as_bytes()).unwrap();
    assert!(
        tokenize_pairs(&tok_pairs, &tok, 1024).is_ok(),
        "non-ASCII text tokenizes (byte-level BPE)"
    );
}

/// A `tokenizer.json` that is not a tokenizer is refused with a message.
#[test]
fn not_a_tokenizer_html_huge_or_without_endoftext_is_refused() {
    let html = b"\n<!DOCTYPE html><html><body>Sign in to continue</body></html>";
    let msg = Gpt2Tokenizer::from_bytes(html).err().unwrap().to_string();
    assert!(msg.contains("HTML page"), "{msg}");

    // 200 MB of (valid) JSON: refused on its size, before any parsing.
    let mut huge = b"{\"pad\": \"".to_vec();
    huge.resize(200_000_000, b'a');
    huge.extend_from_slice(b"\"}");
    let err = Gpt2Tokenizer::from_bytes(&huge).err().unwrap();
    assert!(
        matches!(err, DatasetError::TokenizerTooLarge { bytes, .. } if bytes == huge.len()),
        "a 200 MB tokenizer.json is TokenizerTooLarge with its size: {err}"
    );
    assert!(err.to_string().contains("200000002 bytes"), "{err}");

    let msg = Gpt2Tokenizer::from_bytes(b"[1, 2, 3]")
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("does not start with `{`"), "{msg}");
    let msg = Gpt2Tokenizer::from_bytes(b"{\"model\": 3}")
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.starts_with("tokenizer.json could not be loaded"),
        "{msg}"
    );

    let renamed = String::from_utf8(read(model_a_dir().join("tokenizer.json")))
        .unwrap()
        .replace("<|endoftext|>", "<|eot|>");
    assert_eq!(
        Gpt2Tokenizer::from_bytes(renamed.as_bytes()).err(),
        Some(DatasetError::NoBos)
    );
}
