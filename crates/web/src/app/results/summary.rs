//! The summary tab: the run's settings, logit differences, the statistics of each pair of
//! methods, convergence and timings in one table.

use gradpatch_charts::data::{self, Kind};
use gradpatch_page::ResultsFrom;
use gradpatch_study::Results;
use gradpatch_terms::{ComponentKind, MethodPair, duration_text};
use leptos::prelude::*;

use super::fmt;
use crate::app::Ctx;

/// A JSON value as text, strings without quotes.
fn plain(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// `{"ioi": {"n": 4, "seed": 0, "corrupt": "aba"}}` as `ioi: n 4, seed 0, corrupt aba`,
/// `{"file": "p.json"}` as `file: p.json`.
fn prompts_source(v: &serde_json::Value) -> String {
    let Some((kind, fields)) = v.as_object().and_then(|o| o.iter().next()) else {
        return plain(v);
    };
    match fields.as_object() {
        Some(f) => {
            let f: Vec<String> = f.iter().map(|(k, v)| format!("{k} {}", plain(v))).collect();
            format!("{kind}: {}", f.join(", "))
        }
        None => format!("{kind}: {}", plain(fields)),
    }
}

/// "mean ± SD" of a [`data::mean_sd`], "—" when there were no values.
fn mean_sd_text(m: Option<(f64, f64)>) -> String {
    m.map_or_else(|| "—".into(), |(m, sd)| format!("{} ± {}", fmt(m), fmt(sd)))
}

/// The run's record: where the results came from, the model, the prompts, the logit
/// differences.
fn record_rows(r: &Results, from: &ResultsFrom) -> Vec<(String, String)> {
    vec![
        ("results from".into(), from.to_string()),
        ("model".into(), r.config.model.clone()),
        (
            "prompts from".into(),
            prompts_source(&r.config.prompts_source),
        ),
        ("computed on".into(), r.config.backend.clone()),
        (
            "prompts".into(),
            format!(
                "{}{}",
                r.prompts.len(),
                if r.complete {
                    ""
                } else {
                    " (cancelled: partial)"
                }
            ),
        ),
        (
            "clean logit difference".into(),
            mean_sd_text(data::mean_sd(&r.clean_logit_diff)),
        ),
        (
            "corrupted logit difference".into(),
            mean_sd_text(data::mean_sd(&r.corrupted_logit_diff)),
        ),
    ]
}

/// Pearson r and the top-components overlap of each pair of methods.
fn pair_rows(r: &Results) -> Vec<(String, String)> {
    let pct = 100.0 * (1.0 - r.config.options.percentile);
    let mut rows = Vec::new();
    for pair in MethodPair::all() {
        let (Some(heads), Some(neurons)) = (
            data::comparison(r, pair, Kind::Heads),
            data::comparison(r, pair, Kind::Neurons),
        ) else {
            continue;
        };
        let vs = format!("{} vs {}", pair.first.label(), pair.second.label());
        for (k, c) in [("heads", heads), ("neurons", neurons)] {
            rows.push((
                format!("Pearson r {vs}, {k} (mean ± std over prompts)"),
                format!("{} ± {}", fmt(c.pearson_mean), fmt(c.pearson_std)),
            ));
            rows.push((
                format!("top-{pct:.0}% Jaccard overlap {vs}, {k}"),
                fmt(c.jaccard_mean),
            ));
        }
    }
    rows
}

/// Each method's mean ± std, from the first pair it is in; its convergence deltas, if any.
fn method_rows(r: &Results) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for method in r.methods() {
        let pair = MethodPair::all().into_iter().find_map(|p| {
            let first = p.first == method;
            ((first || p.second == method) && data::comparison(r, p, Kind::Heads).is_some())
                .then_some((p, first))
        });
        if let Some((pair, first)) = pair {
            for kind in [Kind::Heads, Kind::Neurons] {
                if let Some(c) = data::comparison(r, pair, kind) {
                    let (m, sd) = if first {
                        (c.ig_mean, c.ig_std)
                    } else {
                        (c.ap_mean, c.ap_std)
                    };
                    rows.push((
                        format!("{} mean ± std, {}", method.label(), kind.label()),
                        format!("{} ± {}", fmt(m), fmt(sd)),
                    ));
                }
            }
        }
        let Some(scores) = r.scores(method) else {
            continue;
        };
        for (kind, what) in [
            (Kind::Heads, "heads (mean ± std over prompts and layers)"),
            (Kind::Neurons, "neurons"),
        ] {
            if let Some(delta) = data::convergence_mean_sd(scores, kind) {
                rows.push((
                    format!("{} convergence |delta|, {what}", method.label()),
                    mean_sd_text(Some(delta)),
                ));
            }
        }
    }
    rows
}

/// The settings and the time of each stage.
/// Each method's faithfulness summary per kind, when the results have curves.
fn faithfulness_rows(r: &Results) -> Vec<(String, String)> {
    let Some(f) = r.faithfulness.as_ref() else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for &method in f.methods.keys() {
        for kind in [ComponentKind::Heads, ComponentKind::Neurons] {
            if let Some(s) = f.summary(method, kind, r.config.options.percentile) {
                rows.push((
                    format!(
                        "faithfulness of {} {} (area; k at 80%; at the highlighted set)",
                        method.label(),
                        kind.label()
                    ),
                    format!(
                        "{}; {}; {} ({} of them)",
                        fmt(s.area),
                        s.k80.map_or("—".to_string(), |k| k.to_string()),
                        fmt(f64::from(s.at_highlighted)),
                        s.highlighted
                    ),
                ));
            }
        }
    }
    rows
}

fn settings_rows(r: &Results) -> Vec<(String, String)> {
    let o = &r.config.options;
    let mut rows = vec![(
        "settings".to_string(),
        format!(
            "{}; IG {} steps, {}, {} baseline; AP and AtP {}; highlight quantile {}",
            o.methods.keys(),
            o.ig_steps,
            o.ig_method,
            o.ig_baseline,
            o.ap_direction,
            o.percentile
        ),
    )];
    for (k, v) in &r.seconds {
        rows.push((
            format!("time: {k}"),
            v.as_f64().map_or_else(|| v.to_string(), duration_text),
        ));
    }
    rows
}

#[component]
pub(super) fn Summary() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let r = ctx.results.get()?;
        let from = ctx
            .page
            .with(|p| p.phase.results_from())
            .unwrap_or(ResultsFrom::Run);
        let mut rows = record_rows(&r, &from);
        rows.extend(pair_rows(&r));
        rows.extend(method_rows(&r));
        rows.extend(faithfulness_rows(&r));
        rows.extend(settings_rows(&r));
        Some(view! {
            <table class="summary" data-testid="summary">
                {rows.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
            </table>
        })
    }
}
