#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_config::{
    Backend, Corrupt, ModelChoice, PageState, PairText, Selection, Tab, Task, decode_component,
    encode_component,
};

fn roundtrip(s: &PageState) {
    let q = s.to_query();
    let (back, warnings) = PageState::from_query(&q);
    assert!(warnings.is_empty(), "{q}: {warnings:?}");
    assert_eq!(&back, s, "{q}");
}

#[test]
fn default_and_empty_query_agree() {
    let (s, w) = PageState::from_query("");
    assert!(w.is_empty());
    assert_eq!(s, PageState::default());
    roundtrip(&PageState::default());
}

#[test]
fn every_setting_and_the_view_survive_a_roundtrip() {
    let s = PageState {
        model: ModelChoice::Url("https://example.org/m/?a=1&b=2".into()),
        processing: false,
        backend: Backend::Cpu,
        task: Task::Ioi {
            n: 12,
            seed: 7,
            corrupt: Corrupt::Abc,
        },
        run_ig: false,
        run_ap: true,
        ig_steps: 20,
        ig_method: "riemann_trapezoid".into(),
        ig_baseline: "corrupted".into(),
        ap_direction: "denoising".into(),
        percentile: 0.95,
        view: gradpatch_config::View {
            tab: Tab::MeanDiff,
            prompt: Some(3),
            selection: Some(Selection::Neuron {
                layer: 2,
                neuron: 301,
            }),
        },
    };
    roundtrip(&s);
    let custom = PageState {
        model: ModelChoice::Bundled,
        task: Task::Custom(vec![PairText {
            clean: "When Mary and John went to the café, John gave a drink to".into(),
            corrupted: "When Mary and John went to the café, Mary gave a drink to".into(),
            correct: " Mary".into(),
            incorrect: " John".into(),
        }]),
        ..PageState::default()
    };
    roundtrip(&custom);
}

#[test]
fn bad_and_unknown_parameters_warn_and_keep_defaults() {
    let (s, w) = PageState::from_query(
        "?n=0&steps=abc&quad=simpson&tab=nope&sel=X1&zzz=1&pct=1.5&model=ftp://x&prompt=2&bad=%ZZ",
    );
    let keys: Vec<&str> = w.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "n", "steps", "quad", "tab", "sel", "zzz", "pct", "model", "bad"
        ]
    );
    assert!(
        w[0].to_string().contains("prompt count from 1 to 256"),
        "{}",
        w[0]
    );
    assert_eq!(s.view.prompt, Some(2));
    let d = PageState::default();
    assert_eq!(
        (s.ig_steps, s.percentile, s.model),
        (d.ig_steps, d.percentile, d.model)
    );
}

#[test]
fn custom_task_without_pairs_falls_back_with_a_warning() {
    let (s, w) = PageState::from_query("task=custom");
    assert!(matches!(s.task, Task::Ioi { .. }));
    assert_eq!(w.len(), 1);
    let (_, w) = PageState::from_query("task=custom&pairs=a%7Cb%7Cc");
    assert!(w[0].message.contains("3 fields"), "{:?}", w);
}

#[test]
fn text_is_carried_verbatim_including_markup() {
    let text = "<script>alert(1)</script> & ünïcode|x|y|z";
    assert_eq!(
        decode_component(&encode_component(text)).as_deref(),
        Some(text)
    );
    assert_eq!(decode_component("a+b%20c").as_deref(), Some("a b c"));
    assert_eq!(decode_component("%E2%28"), None);
}

#[test]
fn selections_parse() {
    assert_eq!(
        Selection::parse("L9H6"),
        Some(Selection::Head { layer: 9, head: 6 })
    );
    assert_eq!(Selection::parse("L9"), None);
    assert_eq!(Selection::parse("LxH1"), None);
}
