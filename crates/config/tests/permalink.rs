#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_config::{
    CircuitChoice, MAX_PAIRS, ModelChoice, ModelUrl, PageState, Preset, ResultsLink, Tab,
    decode_component, encode_component,
};
use gradpatch_terms::{
    Backend, Baseline, Component, Corruption, Direction, Keyed, Method, MethodPair, MethodSet,
    PromptPair, Prompts, Quadrature, Ranking, StudyOptions,
};

fn pair(a: Method, b: Method) -> MethodPair {
    MethodPair::of(a, b).unwrap()
}

fn roundtrip(s: &PageState) {
    let q = s.to_query();
    let (back, warnings) = PageState::from_query(&q);
    assert!(warnings.is_empty(), "{q}: {warnings:?}");
    assert_eq!(&back, s, "{q}");
}

#[test]
fn default_and_empty_query_agree() {
    let (s, w) = PageState::from_query("");
    assert!(w.is_empty(), "an empty query gives no warnings: {w:?}");
    assert_eq!(s, PageState::default());
    roundtrip(&PageState::default());
}

#[test]
fn every_setting_and_the_view_survive_a_roundtrip() {
    let s = PageState {
        results: Some(ResultsLink::parse("https://example.org/r/results.json?x=1&y=2").unwrap()),
        model: ModelChoice::Url(ModelUrl::parse("https://example.org/m/?a=1&b=2").unwrap()),
        processing: false,
        backend: Backend::Cpu,
        prompts: Prompts::Ioi {
            n: 12,
            seed: 7,
            corrupt: Corruption::Abc,
        },
        options: StudyOptions {
            methods: MethodSet::NONE
                .with(Method::Ap, true)
                .with(Method::EapIg, true),
            positions: false,
            ig_steps: 20,
            ig_method: Quadrature::RiemannTrapezoid,
            ig_baseline: Baseline::Corrupted,
            ap_direction: Direction::Denoising,
            percentile: 0.95,
            faithfulness: Some(Ranking::Signed),
            eapig_steps: 20,
            exact_edges: 50,
        },
        circuit: CircuitChoice::Link(ResultsLink::parse("https://example.org/c.json").unwrap()),
        view: gradpatch_config::View {
            tab: Tab::MeanDiff,
            pair: pair(Method::Atp, Method::Ap),
            prompt: Some(3),
            selection: Some(Component::Neuron {
                layer: 2,
                neuron: 301,
            }),
            outlines: false,
            graph: gradpatch_config::GraphView {
                method: Some(Method::Eap),
                edges: 300,
            },
        },
    };
    roundtrip(&s);
    for circuit in [
        CircuitChoice::Off,
        CircuitChoice::Bundled,
        CircuitChoice::Link(ResultsLink::Relative("c/demo.json".into())),
    ] {
        roundtrip(&PageState {
            circuit,
            ..PageState::default()
        });
    }
    let custom = PageState {
        model: ModelChoice::Bundled,
        prompts: Prompts::Custom(vec![PromptPair {
            clean: "When Mary and John went to the café, John gave a drink to".into(),
            corrupted: "When Mary and John went to the café, Mary gave a drink to".into(),
            correct: " Mary".into(),
            incorrect: " John".into(),
        }]),
        ..PageState::default()
    };
    roundtrip(&custom);
    let relative = PageState {
        results: Some(ResultsLink::Relative("runs/a/results.json?v=2".into())),
        ..PageState::default()
    };
    roundtrip(&relative);
}

/// `?results=…` names the file; the view parameters come with it, and the
/// highlight quantile only when the link sets it.
#[test]
fn a_results_link_keeps_its_view() {
    let q = "?results=https%3A%2F%2Fexample.org%2Fresults.json&tab=positions&prompt=1&sel=L0H1&pair=atp-ap";
    let (s, w) = PageState::from_query(q);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        s.results.as_ref().map(ResultsLink::as_str),
        Some("https://example.org/results.json")
    );
    assert_eq!(s.view.tab, Tab::Positions);
    assert!(!PageState::query_sets_percentile(q));
    assert!(PageState::query_sets_percentile(&format!("{q}&pct=0.8")));
    let (_, w) = PageState::from_query("?results=javascript%3Aalert(1)");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].key, "results");
    let (s, w) = PageState::from_query("?circuit=javascript%3Aalert(1)");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].to_string().contains("`none` or `ioi-gpt2-small`"),
        "{}",
        w[0]
    );
    assert_eq!(s.circuit, CircuitChoice::Auto);
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
        (s.options.ig_steps, s.options.percentile, s.model),
        (d.options.ig_steps, d.options.percentile, d.model)
    );
}

#[test]
fn custom_task_without_pairs_falls_back_with_a_warning() {
    let (s, w) = PageState::from_query("task=custom");
    assert!(
        matches!(s.prompts, Prompts::Ioi { .. }),
        "a custom task without pairs falls back to IOI, got {:?}",
        s.prompts
    );
    assert_eq!(w.len(), 1);
    let (_, w) = PageState::from_query("task=custom&pairs=a%7Cb%7Cc");
    assert!(w[0].message.to_string().contains("3 fields"), "{:?}", w);
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
        Component::parse("L9H6"),
        Some(Component::Head { layer: 9, head: 6 })
    );
    assert_eq!(Component::parse("L9"), None);
    assert_eq!(Component::parse("LxH1"), None);
}

/// a link holds at most 256 pairs of at most 500-character fields.
#[test]
fn pairs_are_capped_with_a_warning() {
    let line = |i: usize| format!("When A{i} met B, B thanked|When A{i} met B, A thanked| A| B");
    let many: Vec<String> = (0..300).map(line).collect();
    let q = format!("task=custom&pairs={}", encode_component(&many.join("\n")));
    let (s, w) = PageState::from_query(&q);
    let Prompts::Custom(pairs) = &s.prompts else {
        panic!("custom task expected")
    };
    assert_eq!(pairs.len(), MAX_PAIRS);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].message
            .to_string()
            .contains("only the first 256 pairs are used (44 more given)"),
        "{}",
        w[0]
    );

    let long = format!("{}|x| A| B", "a".repeat(501));
    let q = format!(
        "task=custom&pairs={}",
        encode_component(&format!("{}\n{long}", line(0)))
    );
    let (s, w) = PageState::from_query(&q);
    assert!(
        matches!(&s.prompts, Prompts::Custom(p) if p.len() == 1),
        "only the pair with short fields is kept, got {:?}",
        s.prompts
    );
    assert!(
        w[0].message
            .to_string()
            .contains("line 2 dropped: a field of 501 characters (at most 500)"),
        "{}",
        w[0]
    );
    // Nothing usable left: the task falls back to IOI, with both warnings.
    let (s, w) = PageState::from_query(&format!("task=custom&pairs={}", encode_component(&long)));
    assert!(
        matches!(s.prompts, Prompts::Ioi { .. }),
        "a custom task with no usable pair falls back to IOI, got {:?}",
        s.prompts
    );
    assert!(w[0].message.to_string().contains("dropped"), "{w:?}");
}

/// above a bound of work a link waits for a click.
#[test]
fn a_link_runs_a_bounded_amount_of_work_unasked() {
    let (s, _) = PageState::from_query("n=8&steps=50");
    assert!(
        s.auto_run_allowed(),
        "8 prompts of 50 IG steps run without a click"
    );
    for q in ["n=9", "steps=101", "n=9&model=https://example.org/m/"] {
        let (s, _) = PageState::from_query(q);
        assert!(!s.auto_run_allowed(), "{q}");
        let seconds = s.options.gpt2_cpu_seconds(s.prompts.len());
        assert!(
            seconds > 0.0,
            "{q}: the GPT-2 CPU time estimate {seconds} is positive"
        );
    }
    // AP only: the step count does not matter; the bundled model allows more prompts.
    let (s, _) = PageState::from_query("ig=0&steps=1000&n=8");
    assert!(
        s.auto_run_allowed(),
        "AP alone on 8 prompts runs without a click, whatever the step count"
    );
    let (s, _) = PageState::from_query("model=bundled&n=64");
    assert!(
        s.auto_run_allowed(),
        "the bundled model runs 64 prompts without a click"
    );
    let (s, _) = PageState::from_query("model=bundled&n=65");
    assert!(
        !s.auto_run_allowed(),
        "the bundled model waits for a click above 64 prompts"
    );
}

/// model URLs in links are parsed; http only for this machine.
#[test]
fn link_model_urls_are_checked() {
    for (q, why) in [
        ("model=http://example.org/m/", "only allowed for localhost"),
        ("model=https://u:p@example.org/m/", "user name or password"),
        ("model=javascript:alert(1)", "https:// URL"),
    ] {
        let (s, w) = PageState::from_query(q);
        assert_eq!(s.model, ModelChoice::Preset(Preset::Gpt2Small), "{q}");
        assert!(w[0].message.to_string().contains(why), "{q}: {:?}", w);
    }
    let (s, w) = PageState::from_query("model=http://127.0.0.1:9000/m/");
    assert!(
        w.is_empty(),
        "an http model URL on 127.0.0.1 gives no warnings: {w:?}"
    );
    assert!(
        matches!(&s.model, ModelChoice::Url(u) if u.host() == "127.0.0.1"),
        "the http model URL on 127.0.0.1 is kept, got {:?}",
        s.model
    );
}

/// a selection or prompt the loaded model or results lack is dropped.
#[test]
fn out_of_range_selection_and_prompt_warn_and_are_ignored() {
    let (mut s, w) = PageState::from_query("sel=L11H11&prompt=40");
    assert!(
        w.is_empty(),
        "the selection and prompt parse without warnings before fitting: {w:?}"
    );
    // The bundled model: 2 layers of 4 heads and 512 neurons.
    let w = s.fit_view(2, 4, 512, None);
    assert_eq!(s.view.selection, None);
    assert_eq!(
        s.view.prompt,
        Some(40),
        "prompts are checked against results"
    );
    assert!(
        w[0].to_string()
            .contains("L11H11 is not in this model (2 layers of 4 heads)"),
        "{w:?}"
    );
    let w = s.fit_view(2, 4, 512, Some(8));
    assert_eq!(s.view.prompt, None);
    assert!(
        w[0].message
            .to_string()
            .contains("prompt 40 does not exist (the results have 8 prompts, 0 to 7)"),
        "{w:?}"
    );
    let (mut s, _) = PageState::from_query("sel=L1N511&prompt=7");
    assert!(
        s.fit_view(2, 4, 512, Some(8)).is_empty(),
        "L1N511 and prompt 7 fit the bundled model and 8 prompts without warnings"
    );
    assert_eq!(
        s.view.selection,
        Some(Component::Neuron {
            layer: 1,
            neuron: 511
        })
    );
    let (mut s, _) = PageState::from_query("sel=L1N512");
    assert_eq!(s.fit_view(2, 4, 512, None).len(), 1);
}

/// Links written before the shared option types moved into `gradpatch-terms` read and write
/// exactly as they did: a link someone shared keeps its meaning and its bytes.
#[test]
fn links_of_today_read_and_write_byte_for_byte() {
    let text = [
        include_str!("fixtures/permalinks-2026-12.txt"),
        include_str!("fixtures/permalinks-atp-2026-12.txt"),
    ]
    .concat();
    let links: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert!(links.len() >= 17, "the fixtures lost links: {links:?}");
    for link in links {
        let (state, warnings) = PageState::from_query(link);
        assert!(warnings.is_empty(), "{link}: {warnings:?}");
        assert_eq!(state.to_query(), link, "written differently");
    }
}

/// AtP is on unless `atp=0`; `pair` picks the compared methods.
#[test]
fn atp_flag_and_pair_selector() {
    let (s, w) = PageState::from_query("n=4&seed=1&atp=0&pos=0&pair=ig-atp&tab=scatter");
    assert!(w.is_empty(), "{w:?}");
    assert!(!s.options.methods.has(Method::Atp), "atp=0 turns AtP off");
    assert!(!s.options.positions, "pos=0: no scores per position");
    assert_eq!(s.view.pair, pair(Method::Ig, Method::Atp));
    assert_eq!(
        s.to_query(),
        "n=4&seed=1&atp=0&pos=0&tab=scatter&pair=ig-atp"
    );
    // Links written before AtP existed run it (the default), and write back unchanged.
    let (old, _) = PageState::from_query("n=4&seed=1&tab=heads");
    assert!(old.options.methods == MethodSet::default_on() && old.options.positions);
    assert_eq!(old.view.pair, pair(Method::Ig, Method::Ap));
    assert_eq!(old.to_query(), "n=4&seed=1&tab=heads");
    let (bad, w) = PageState::from_query("pair=ig-xx");
    assert_eq!(bad.view.pair, pair(Method::Ig, Method::Ap));
    assert_eq!(w.len(), 1, "{w:?}");
    let message = w[0].message.to_string();
    assert!(
        message.starts_with("unknown method pair \"ig-xx\", expected ")
            && MethodPair::all().iter().all(|p| message.contains(&p.key())),
        "{message}"
    );
}

/// The options travel through a link and back unchanged, whatever they are (the permalink is one
/// of the forms of `StudyOptions`).
#[test]
fn study_options_round_trip_through_a_link() {
    let variants = [
        StudyOptions::default(),
        StudyOptions {
            methods: MethodSet::NONE.with(Method::Atp, true),
            positions: false,
            ..StudyOptions::default()
        },
        StudyOptions {
            methods: MethodSet::all().with(Method::Ap, false),
            ig_steps: 1000,
            ig_method: Quadrature::RiemannMiddle,
            ig_baseline: Baseline::Corrupted,
            ap_direction: Direction::Denoising,
            percentile: 0.5,
            positions: true,
            faithfulness: Some(Ranking::Abs),
            eapig_steps: 7,
            exact_edges: 0,
        },
        StudyOptions {
            methods: MethodSet::default_on().with(Method::Eap, true),
            exact_edges: 1000,
            ..StudyOptions::default()
        },
        StudyOptions {
            methods: MethodSet::NONE,
            ..StudyOptions::default()
        },
    ];
    for options in variants {
        let s = PageState {
            options: options.clone(),
            ..PageState::default()
        };
        let (back, w) = PageState::from_query(&s.to_query());
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(back.options, options, "{}", s.to_query());
    }
    // Flags are written in the order of the first links: ig, ap, then later methods.
    let s = PageState {
        options: StudyOptions {
            methods: MethodSet::NONE,
            ..StudyOptions::default()
        },
        ..PageState::default()
    };
    assert_eq!(s.to_query(), "n=8&seed=0&ig=0&ap=0&atp=0&tab=heads");
}

/// Edge methods are off unless a link names them; EAP-IG's value is its step count.
#[test]
fn edge_methods_are_named_by_their_flags_and_steps() {
    let (s, w) = PageState::from_query("eap=1&eapig=5&exact=100");
    assert!(w.is_empty(), "{w:?}");
    assert!(s.options.methods.has(Method::Eap) && s.options.methods.has(Method::EapIg));
    assert_eq!((s.options.eapig_steps, s.options.exact_edges), (5, 100));
    let (s, _) = PageState::from_query("eapig=0");
    assert!(!s.options.methods.has(Method::EapIg));
    let (s, _) = PageState::from_query("");
    assert!(!s.options.methods.has(Method::Eap) && !s.options.methods.has(Method::EapIg));
    let (s, w) = PageState::from_query("eapig=500&exact=-1");
    assert!(!s.options.methods.has(Method::EapIg));
    assert_eq!(s.options.exact_edges, 200);
    let text: Vec<String> = w.iter().map(|w| w.to_string()).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(
        text[0].contains("eapig") && text[0].contains("0 to 100"),
        "{text:?}"
    );
    assert!(
        text[1].contains("exact") && text[1].contains("0 to 5000"),
        "{text:?}"
    );
}

/// `model=distilgpt2|gpt2-medium` name the presets; GPT-2 small is the default and left out.
#[test]
fn presets_in_links() {
    for p in Preset::ALL {
        let s = PageState {
            model: ModelChoice::Preset(p),
            ..PageState::default()
        };
        let q = s.to_query();
        let named: Vec<&str> = q.split('&').filter(|kv| kv.starts_with("model=")).collect();
        let expected = match p {
            Preset::Gpt2Small => vec![],
            _ => vec![format!("model={}", p.key())],
        };
        assert_eq!(named, expected, "{q}");
        assert_eq!(PageState::from_query(&q), (s.clone(), vec![]));
        let (back, w) = PageState::from_query(&format!("model={}", p.key()));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(back, s);
    }
    let (s, w) = PageState::from_query("model=gpt2-large");
    assert_eq!(s.model, ModelChoice::Preset(Preset::Gpt2Small));
    assert_eq!(
        w[0].to_string(),
        "link parameter `model` ignored: expected gpt2, distilgpt2, gpt2-medium, bundled or an https:// URL"
    );
}

/// A link to a page on the web cannot make its visitors fetch from their own machine: http
/// models, results and circuits on localhost are dropped there, kept on a local page.
#[test]
fn local_http_urls_only_for_a_local_page() {
    let q = "model=http://127.0.0.1:9000/m/&results=http://localhost:9000/r.json&circuit=http://[::1]:9000/c.json";
    for local in ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"] {
        let (mut s, w) = PageState::from_query(q);
        assert!(w.is_empty(), "{w:?}");
        assert!(s.fit_origin(local).is_empty(), "{local}");
        assert!(matches!(s.model, ModelChoice::Url(_)));
        assert!(s.results.is_some());
    }
    let (mut s, _) = PageState::from_query(q);
    let w = s.fit_origin("user.github.io");
    let keys: Vec<&str> = w.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(keys, ["model", "results", "circuit"]);
    assert!(
        w[0].to_string()
            .contains("http://127.0.0.1 names your own machine"),
        "{}",
        w[0]
    );
    assert_eq!(s.model, ModelChoice::Preset(Preset::Gpt2Small));
    assert_eq!(s.results, None);
    assert_eq!(s.circuit, CircuitChoice::Auto);
    // https links are kept wherever the page is.
    let (mut s, _) = PageState::from_query("model=https://example.org/m/");
    assert!(s.fit_origin("user.github.io").is_empty());
    assert!(matches!(s.model, ModelChoice::Url(_)));
}
