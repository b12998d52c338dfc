//! The summary tab: the run's settings, logit differences, the statistics of each pair of
//! methods, IG convergence and timings in one table.

use gradpatch_charts::data::{self, Kind, MethodPair};
use leptos::prelude::*;

use super::fmt;
use crate::app::Ctx;
use crate::app::open::ResultsFrom;
use crate::app::panels::duration;

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

#[component]
pub(super) fn Summary() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let r = ctx.results.get()?;
        let from = ctx.results_from.get().unwrap_or(ResultsFrom::Run);
        let mut rows: Vec<(String, String)> = vec![
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
        ];
        let pct = 100.0 * (1.0 - r.config.percentile);
        for pair in MethodPair::ALL.iter().copied() {
            let (Some(heads), Some(neurons)) = (
                data::comparison(&r, pair, Kind::Heads),
                data::comparison(&r, pair, Kind::Neurons),
            ) else {
                continue;
            };
            let (a, b) = pair.methods();
            let vs = format!("{} vs {}", a.label(), b.label());
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
        // Each method's mean ± std, from the first pair it is in.
        for method in r.methods() {
            let pair = MethodPair::ALL.iter().copied().find_map(|p| {
                let (a, b) = p.methods();
                let first = a == method;
                ((first || b == method) && data::comparison(&r, p, Kind::Heads).is_some())
                    .then_some((p, first))
            });
            let Some((pair, first)) = pair else { continue };
            for kind in [Kind::Heads, Kind::Neurons] {
                if let Some(c) = data::comparison(&r, pair, kind) {
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
        if let Some(ig) = &r.ig {
            rows.push((
                "IG convergence |delta|, heads (mean ± std over prompts and layers)".into(),
                mean_sd_text(data::convergence_mean_sd(ig, Kind::Heads)),
            ));
            rows.push((
                "IG convergence |delta|, neurons".into(),
                mean_sd_text(data::convergence_mean_sd(ig, Kind::Neurons)),
            ));
        }
        rows.push((
            "settings".into(),
            format!(
                "{}; IG {} steps, {}, {} baseline; AP and AtP {}; highlight quantile {}",
                r.config.methods.keys(),
                r.config.ig_steps,
                r.config.ig_method,
                r.config.ig_baseline,
                r.config.ap_direction,
                r.config.percentile
            ),
        ));
        for (k, v) in &r.seconds {
            rows.push((
                format!("time: {k}"),
                v.as_f64().map_or_else(|| v.to_string(), duration),
            ));
        }
        Some(view! {
            <table class="summary" data-testid="summary">
                {rows.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
            </table>
        })
    }
}
