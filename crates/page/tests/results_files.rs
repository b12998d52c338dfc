//! The page's transitions around results files: opened by file or link (asked first from
//! another site), over a loaded model, with the file's quantile or the link's, closed again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gradpatch_config::ResultsLink;
use gradpatch_page::{Effect, Event, Phase, ResultsFrom};
use gradpatch_terms::Method;

fn opened(from: ResultsFrom, pct: f64) -> Event {
    let all = [Method::Atp, Method::Ig, Method::Ap];
    Event::Opened {
        from,
        results: Ok(Box::new(results(2, &all, pct, true))),
        ticket: None,
    }
}

fn link_event(url: &str, same_site: bool) -> Event {
    Event::ResultsLink {
        link: ResultsLink::parse(url).unwrap(),
        url: url.into(),
        same_site,
    }
}

#[test]
fn a_link_naming_a_model_and_results_shows_the_results_and_loads_nothing() {
    let url = "https://example.org/r.json";
    let (page, effects) = start(&format!("?model=bundled&results={url}&pct=0.8"), false);
    assert!(effects.is_empty(), "no model load");
    assert_eq!(phase_name(&page.phase), "idle");
    let (page, effects) = step(page, link_event(url, true));
    assert_eq!(
        effects,
        [Effect::FetchResults {
            url: url.into(),
            ticket: 1
        }]
    );
    let (page, _) = step(page, opened(ResultsFrom::Link(url.into()), 0.9));
    assert_eq!(phase_name(&page.phase), "viewing file over idle");
    assert!(
        page.config.results.is_some(),
        "the link keeps naming the file"
    );
    assert_eq!(page.config.options.percentile, 0.8, "the link's quantile");
    assert_eq!(
        page.results().map(|r| r.config.options.percentile),
        Some(0.8),
        "and the statistics are at it"
    );
}

#[test]
fn results_on_another_site_are_fetched_only_once_the_user_agrees() {
    let url = "https://elsewhere.example/r.json";
    let (page, _) = start(&format!("?results={url}"), false);
    let (page, effects) = step(page, link_event(url, false));
    assert!(effects.is_empty());
    assert!(page.confirm_results.is_some());
    let (yes, effects) = step(page.clone(), Event::ConfirmResults { download: true });
    assert_eq!(
        effects,
        [Effect::FetchResults {
            url: url.into(),
            ticket: 1
        }]
    );
    assert!(yes.confirm_results.is_none());
    let (no, effects) = step(page, Event::ConfirmResults { download: false });
    assert!(effects.is_empty());
    assert!(no.config.results.is_none(), "the link stops naming them");
}

#[test]
fn opening_a_results_file_while_a_model_is_loaded_keeps_the_model_underneath() {
    let page = ready_page();
    let (page, _) = step(page, opened(ResultsFrom::File("r.json".into()), 0.95));
    assert_eq!(phase_name(&page.phase), "viewing file over ready");
    assert!(page.model().is_some(), "the model stays loaded");
    assert_eq!(page.config.options.percentile, 0.95, "the file's quantile");
    assert_eq!(
        page.phase.results_from(),
        Some(ResultsFrom::File("r.json".into()))
    );
    // Closing it returns to the page's own configuration and model.
    let (closed, _) = step(page.clone(), Event::CloseFile);
    assert_eq!(phase_name(&closed.phase), "ready");
    // Running computes the page's own results: the file closes.
    let (running, effects) = step(page, Event::Run);
    assert!(runs(&effects));
    assert_eq!(phase_name(&running.phase), "running");
}

#[test]
fn a_run_that_ends_under_a_file_keeps_the_file_on_screen() {
    let (page, _) = step(ready_page(), Event::Run);
    let (page, _) = step(page, opened(ResultsFrom::File("r.json".into()), 0.9));
    assert_eq!(phase_name(&page.phase), "viewing file over running");
    assert!(page.phase.is_running(), "the run goes on");
    let (page, _) = step(
        page,
        results_message(results(2, &[Method::Atp], 0.9, true), true),
    );
    assert_eq!(phase_name(&page.phase), "viewing file over showing results");
    let (page, _) = step(page, Event::CloseFile);
    assert_eq!(page.results().map(|r| r.methods()), Some(vec![Method::Atp]));
}

#[test]
fn a_file_that_cannot_be_shown_changes_nothing_but_the_error() {
    let page = ready_page();
    let (page, _) = step(page, opened(ResultsFrom::File("good.json".into()), 0.9));
    let before = page.phase.clone();
    let (page, _) = step(
        page,
        Event::Opened {
            from: ResultsFrom::File("bad.json".into()),
            results: Err(gradpatch_study::ResultsError::Schema {
                at: Some("ig.heads[1][0]".into()),
                message: "prompt 1 has 1 layers".into(),
            }),
            ticket: None,
        },
    );
    assert_eq!(page.phase, before, "the results on screen stay");
    assert_eq!(
        page.banners.error.as_deref(),
        Some(
            "Open results: the file bad.json is not a results.json this page can show: \
             `ig.heads[1][0]`: prompt 1 has 1 layers"
        )
    );
    let (page, _) = step(
        page,
        Event::OpenFailed {
            from: ResultsFrom::Link("https://x.example/r.json".into()),
            message: "the server answered HTTP 404".into(),
            ticket: None,
        },
    );
    assert_eq!(page.phase, before);
    assert!(
        page.banners
            .error
            .unwrap_or_default()
            .ends_with("HTTP 404.")
    );
}

#[test]
fn the_highlight_quantile_recomputes_the_statistics_of_the_results_on_screen() {
    let page = ready_page();
    let (page, _) = step(page, opened(ResultsFrom::File("r.json".into()), 0.9));
    let mut config = page.config.clone();
    config.options.percentile = 0.5;
    let (page, _) = step(page, Event::Configure(config));
    let shown = page.results().unwrap();
    assert_eq!(shown.config.options.percentile, 0.5);
    let expected = results(2, &[Method::Atp, Method::Ig, Method::Ap], 0.5, true);
    assert_eq!(
        shown.stats_pairs, expected.stats_pairs,
        "as a run at 0.5 computes them"
    );
    assert!(matches!(page.phase, Phase::ViewingFile { .. }));
}

/// Two opens under way: the answer to the older one, arriving last, is dropped; the newer
/// stays on screen.
#[test]
fn a_newer_open_wins_over_an_older_one_that_answers_later() {
    let (page, _) = start("?model=bundled", false);
    let (a, b) = ("https://x.example/a.json", "https://x.example/b.json");
    let (page, first) = step(page, link_event(a, true));
    let (page, second) = step(page, link_event(b, true));
    let ticket = |e: &[Effect]| match e {
        [Effect::FetchResults { ticket, .. }] => *ticket,
        other => panic!("{other:?}"),
    };
    let (t1, t2) = (ticket(&first), ticket(&second));
    assert!(t2 > t1);
    let all = [Method::Ap];
    let answer = |url: &str, t: u64, pct: f64| Event::Opened {
        from: ResultsFrom::Link(url.into()),
        results: Ok(Box::new(results(2, &all, pct, true))),
        ticket: Some(t),
    };
    let (page, _) = step(page, answer(b, t2, 0.8));
    let (page, _) = step(page, answer(a, t1, 0.7));
    assert_eq!(
        page.results().map(|r| r.config.options.percentile),
        Some(0.8),
        "b stays"
    );
    // A late failure of the older one does not touch the page either.
    let (page, _) = step(
        page,
        Event::OpenFailed {
            from: ResultsFrom::Link(a.into()),
            message: "HTTP 500".into(),
            ticket: Some(t1),
        },
    );
    assert_eq!(page.banners.error, None);
    // A file read after the link: its answer is the current one.
    let (page, _) = step(
        page,
        Event::Reading {
            name: "c.json".into(),
        },
    );
    let (page, _) = step(page, answer(b, t2, 0.8));
    assert_eq!(page.opening, t2 + 1);
    let (page, _) = step(page, answer("c", t2 + 1, 0.6));
    assert_eq!(
        page.results().map(|r| r.config.options.percentile),
        Some(0.6)
    );
}

/// The statistics of an opened file are computed from its scores: a file whose stored
/// statistics disagree with them (edited, or from an older version) shows the true ones.
#[test]
fn an_opened_files_statistics_are_recomputed_from_its_scores() {
    let all = [Method::Atp, Method::Ig, Method::Ap];
    let honest = results(2, &all, 0.9, true);
    let mut forged = honest.clone();
    if let Some(s) = forged.stats.as_mut() {
        s.heads.pearson_mean = 0.123;
    }
    let (page, _) = start("?model=bundled", false);
    let (page, _) = step(
        page,
        Event::Opened {
            from: ResultsFrom::File("forged.json".into()),
            results: Ok(Box::new(forged)),
            ticket: None,
        },
    );
    let shown = page.results().expect("shown");
    assert_eq!(shown.stats, honest.stats);
    assert_eq!(shown.stats_pairs, honest.stats_pairs);
    assert_ne!(
        shown.stats.as_ref().map(|s| s.heads.pearson_mean),
        Some(0.123)
    );
}
