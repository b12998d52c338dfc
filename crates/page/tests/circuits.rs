//! The page's transitions around the known circuit: GPT-2 small gets the IOI circuit by
//! default, `circuit=none` turns it off, a file picked replaces it, a link's is fetched (asked
//! first from another site), and a bad file is refused naming the entry, changing nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gradpatch_config::{CircuitChoice, ResultsLink, gpt2_small_name};
use gradpatch_page::{Effect, Event, ResultsFrom};
use gradpatch_terms::Method;

const DEMO_CIRCUIT: &str =
    r#"{"classes": [{"name": "movers", "acts_at": "END", "heads": [[1, 0]]}]}"#;

fn read(from: &str, bytes: &str, link: bool) -> Event {
    Event::CircuitRead {
        from: from.into(),
        bytes: Ok(bytes.as_bytes().to_vec()),
        link,
    }
}

#[test]
fn gpt2_small_gets_the_ioi_circuit_by_default_and_circuit_none_turns_it_off() {
    let (page, _) = start("?model=gpt2&n=2", false);
    let c = page.active_circuit().expect("the IOI circuit");
    assert_eq!(c.circuit.size(), 26);
    let (off, _) = start("?model=gpt2&n=2&circuit=none", false);
    assert!(off.active_circuit().is_none());
    assert!(off.config.to_query().contains("circuit=none"));
    // Other models have none by default; `circuit=ioi-gpt2-small` asks for it anyway.
    let (bundled, _) = start("?model=bundled", false);
    assert!(bundled.active_circuit().is_none());
    let (asked, _) = start("?model=bundled&circuit=ioi-gpt2-small", false);
    assert_eq!(asked.config.circuit, CircuitChoice::Bundled);
    assert!(asked.active_circuit().is_some());
}

#[test]
fn results_of_gpt2_small_get_the_circuit_by_their_model_name() {
    let (page, _) = start("?model=bundled", false);
    let mut r = results(2, &[Method::Ap], 0.9, true);
    r.config.model = gpt2_small_name();
    let (page, _) = step(
        page,
        Event::Opened {
            from: ResultsFrom::File("gpt2.json".into()),
            results: Ok(Box::new(r)),
            ticket: None,
        },
    );
    assert!(page.model_is_gpt2_small());
    assert_eq!(page.active_circuit().map(|c| c.circuit.size()), Some(26));
    let (page, _) = step(page, Event::CloseFile);
    assert!(
        page.active_circuit().is_none(),
        "the bundled model's own page"
    );
}

#[test]
fn a_circuit_file_replaces_the_default_and_a_bad_one_changes_nothing() {
    let (page, _) = start("?model=bundled", false);
    let (page, _) = step(page, read("demo.json", DEMO_CIRCUIT, false));
    let c = page.active_circuit().expect("the file's circuit");
    assert_eq!((c.from.as_str(), c.circuit.size()), ("demo.json", 1));
    assert!(page.banners.error.is_none());
    let before = page.clone();
    let (page, _) = step(
        page,
        read(
            "bad.json",
            r#"{"classes": [{"name": "x", "acts_at": "S9", "heads": [[0, 0]]}]}"#,
            false,
        ),
    );
    let error = page.banners.error.clone().unwrap_or_default();
    assert!(
        error.contains("Circuit file bad.json: class “x”: unknown position “S9”"),
        "{error}"
    );
    assert_eq!(page.circuit, before.circuit, "the circuit in use stays");
    assert_eq!(page.config, before.config, "and the configuration");
    // `none` forgets the file.
    let (page, _) = step(page, Event::ChooseCircuit(CircuitChoice::Off));
    assert!(page.active_circuit().is_none() && page.circuit.is_none());
}

#[test]
fn a_linked_circuit_is_fetched_at_once_from_the_site_and_after_a_question_from_another() {
    let link = ResultsLink::parse("circuits/demo.json").unwrap();
    let (page, _) = start("?model=bundled&circuit=circuits/demo.json", false);
    assert_eq!(page.config.circuit, CircuitChoice::Link(link.clone()));
    let url = "https://here.example/circuits/demo.json";
    let (page, effects) = step(
        page,
        Event::CircuitLink {
            link: link.clone(),
            url: url.into(),
            same_site: true,
        },
    );
    assert_eq!(effects, [Effect::FetchCircuit { url: url.into() }]);
    assert!(page.active_circuit().is_none(), "not before it arrives");
    let (page, _) = step(page, read(url, DEMO_CIRCUIT, true));
    assert_eq!(page.active_circuit().map(|c| c.circuit.size()), Some(1));
    assert!(
        page.config
            .to_query()
            .contains("circuit=circuits%2Fdemo.json"),
        "{}",
        page.config.to_query()
    );

    let other = ResultsLink::parse("https://elsewhere.example/c.json").unwrap();
    let (page, _) = start(
        "?model=bundled&circuit=https://elsewhere.example/c.json",
        false,
    );
    let ask = Event::CircuitLink {
        link: other,
        url: "https://elsewhere.example/c.json".into(),
        same_site: false,
    };
    let (page, effects) = step(page, ask);
    assert!(effects.is_empty() && page.confirm_circuit.is_some());
    let (no, effects) = step(page.clone(), Event::ConfirmCircuit { download: false });
    assert!(effects.is_empty() && no.active_circuit().is_none());
    assert_eq!(
        no.config.circuit,
        CircuitChoice::Auto,
        "the link no longer names it"
    );
    let (_, effects) = step(page, Event::ConfirmCircuit { download: true });
    assert_eq!(
        effects,
        [Effect::FetchCircuit {
            url: "https://elsewhere.example/c.json".into()
        }]
    );
}
