#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_config::{
    LINK_WARN_BYTES, LongLink, MAX_FIELD_CHARS, PageState, address, encode_component, state_part,
};
use gradpatch_terms::Prompts;

#[test]
fn the_fragment_holds_the_state_and_old_query_links_are_still_read() {
    assert_eq!(state_part("", "#n=4&seed=2"), "n=4&seed=2");
    assert_eq!(
        state_part("?n=4&seed=2", ""),
        "n=4&seed=2",
        "an older `?` link"
    );
    assert_eq!(
        state_part("?n=9", "#n=4"),
        "n=4",
        "the fragment wins over a query"
    );
    assert_eq!(
        state_part("?n=9", "#"),
        "n=9",
        "an empty fragment is no state"
    );
    assert_eq!(state_part("", ""), "");
}

#[test]
fn the_address_keeps_the_path_and_drops_any_query() {
    let (s, w) = PageState::from_query("model=bundled&n=4&seed=2&sel=L1H2");
    assert!(w.is_empty(), "{w:?}");
    let a = address("/gradpatch/", &s);
    assert_eq!(a, format!("/gradpatch/#{}", s.to_query()));
    assert!(!a.contains('?'), "{a}");
    let hash = &a[a.find('#').unwrap()..];
    let (back, w) = PageState::from_query(state_part("", hash));
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(back, s, "the fragment restores the state");
}

#[test]
fn a_fragment_carrying_a_results_url_with_its_own_query_and_fragment_round_trips() {
    let q = format!(
        "results={}",
        encode_component("https://example.org/r.json?a=1&b=2#top")
    );
    let (s, w) = PageState::from_query(&q);
    assert!(w.is_empty(), "{w:?}");
    let a = address("/", &s);
    assert_eq!(
        a.matches('#').count(),
        1,
        "the URL's own `#` is encoded: {a}"
    );
    let (back, _) = PageState::from_query(state_part("", &a[1..]));
    assert_eq!(back, s);
}

#[test]
fn links_over_8_kb_are_flagged_with_their_size() {
    assert_eq!(
        LongLink::check(LINK_WARN_BYTES),
        None,
        "8 KB exactly is fine"
    );
    let long = LongLink::check(LINK_WARN_BYTES + 1).unwrap();
    let text = long.to_string();
    assert!(
        text.contains("8.0 KB") && text.contains("over the 8 KB"),
        "{text}"
    );
    // Custom pairs are what makes a link long: 20 pairs of long fields.
    let field = "x".repeat(MAX_FIELD_CHARS / 2);
    let pairs: Vec<String> = (0..20)
        .map(|i| format!("{field} {i}|{field}|a|b"))
        .collect();
    let (s, w) = PageState::from_query(&format!(
        "task=custom&pairs={}",
        encode_component(&pairs.join("\n"))
    ));
    assert!(w.is_empty(), "{w:?}");
    assert!(matches!(&s.prompts, Prompts::Custom(p) if p.len() == 20));
    let a = address("/", &s);
    let flagged = LongLink::check(a.len()).expect("a 20-pair link of 500-character prompts");
    assert_eq!(flagged.bytes, a.len());
}
