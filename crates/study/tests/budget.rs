//! The budget a results.json is checked against before it is parsed: each limit named when a
//! file goes over it, what is not structure (strings, malformed input) never counted as such.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_study::budget::{Budget, OverBudget, check};

const SMALL: Budget = Budget {
    prompts: 3,
    tokens: 4,
    numbers: 100,
    arrays: 50,
    string_bytes: 200,
    source_bytes: 20,
};

fn check_small(json: &str) -> Result<(), OverBudget> {
    assert!(
        serde_json::from_str::<serde_json::Value>(json).is_ok(),
        "the test input is JSON: {json}"
    );
    check(json.as_bytes(), &SMALL)
}

#[test]
fn a_file_within_every_limit_passes() {
    let json = r#"{"config": {"prompts_source": "ioi seed 0", "model": "m"},
        "prompts": [{"clean_token_ids": [1, 2, 3, 4], "clean_tokens": ["a", "b\"]", "c", "d"]},
                    {"clean_token_ids": [5, 6], "labels": [1, 2]}],
        "scores": {"ig": {"heads": [[[0.5, -1e-3, 2E+2]]]}}, "complete": true, "x": null}"#;
    assert_eq!(check_small(json), Ok(()));
}

#[test]
fn each_limit_is_named_when_a_file_goes_over_it() {
    assert_eq!(
        check_small(r#"{"prompts": [{}, {}, {}, {}]}"#),
        Err(OverBudget::Prompts { limit: 3 })
    );
    assert_eq!(
        check_small(r#"{"prompts": [{}, {"clean_token_ids": [1, 2, 3, 4, 5]}]}"#),
        Err(OverBudget::Tokens {
            prompt: 1,
            limit: 4
        })
    );
    let numbers = format!("[{}]", vec!["1"; 101].join(","));
    assert_eq!(
        check_small(&numbers),
        Err(OverBudget::Numbers { limit: 100 })
    );
    let empties = format!("{{\"scores\": [{}]}}", vec!["[]"; 50].join(","));
    assert_eq!(check_small(&empties), Err(OverBudget::Arrays { limit: 50 }));
    let text = format!("[\"{}\", \"{}\"]", "x".repeat(100), "y".repeat(101));
    assert_eq!(
        check_small(&text),
        Err(OverBudget::StringBytes { limit: 200 })
    );
    let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
    assert_eq!(check_small(&deep), Err(OverBudget::Depth { limit: 32 }));
}

#[test]
fn prompts_source_is_measured_as_a_string_or_as_json() {
    let long = r#"{"config": {"prompts_source": "0123456789012345678901"}}"#;
    assert_eq!(
        check_small(long),
        Err(OverBudget::Source {
            bytes: 22,
            limit: 20
        })
    );
    let object = r#"{"config": {"prompts_source": {"pairs": ["abcdefghij", "k"]}}}"#;
    assert!(matches!(
        check_small(object),
        Err(OverBudget::Source { limit: 20, .. })
    ));
    // The same key elsewhere is not the source.
    let elsewhere = r#"{"other": {"prompts_source": "0123456789012345678901"}}"#;
    assert_eq!(check_small(elsewhere), Ok(()));
}

#[test]
fn keys_and_strings_with_brackets_do_not_count_as_structure() {
    let json = r#"{"[[[": "]]]{{", "prompts": ["[", "]", "\\"]}"#;
    assert_eq!(check_small(json), Ok(()));
}

/// The page's budget keeps 256 prompts of GPT-2 small (12 layers of 12 heads and 3,072
/// neurons, 15 tokens) with three methods and per-position scores.
#[test]
fn the_page_budget_holds_256_prompts_of_gpt2_small() {
    let grid = |rows: usize, cols: usize| {
        let row = format!("[{}]", vec!["-0.001234"; cols].join(","));
        format!("[{}]", vec![row; rows].join(","))
    };
    let pos = format!("[{}]", vec![grid(12, 15); 12].join(","));
    let method = format!(
        r#"{{"heads": [{}], "neurons": [{}], "heads_pos": [{pos}]}}"#,
        grid(12, 12),
        grid(12, 3072)
    );
    let ids = vec!["50256"; 15].join(",");
    let prompt = format!(
        r#"{{"clean_token_ids": [{ids}], "corrupted_token_ids": [{ids}], "labels": [1, 2]}}"#
    );
    let json = format!(
        r#"{{"prompts": [{prompt}], "clean_logit_diff": [1.5], "corrupted_logit_diff": [-1.5],
            "scores": {{"ig": {method}, "ap": {method}, "atp": {method}}}}}"#
    );
    let share = |n: u64| n / 256;
    let per_prompt = Budget {
        prompts: 1,
        tokens: 15,
        numbers: share(Budget::PAGE.numbers),
        arrays: share(Budget::PAGE.arrays),
        string_bytes: share(Budget::PAGE.string_bytes),
        source_bytes: 0,
    };
    assert_eq!(check(json.as_bytes(), &per_prompt), Ok(()));
}

#[test]
fn malformed_input_ends_the_pass_without_a_verdict() {
    for bad in [
        "]]]",
        "{\"a\": [1, 2",
        "\"unterminated",
        "<html>",
        "",
        "[1e999999",
    ] {
        assert_eq!(check(bad.as_bytes(), &SMALL), Ok(()), "{bad}");
    }
}
