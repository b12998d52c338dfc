//! The summary tab: the run's settings, logit differences, IG-vs-AP statistics, IG convergence
//! and timings in one table.

use gradpatch_charts::data::{self, Kind};
use leptos::prelude::*;

use super::fmt;
use crate::app::Ctx;
use crate::app::panels::duration;

/// "mean ± SD" of a [`data::mean_sd`], "—" when there were no values.
fn mean_sd_text(m: Option<(f64, f64)>) -> String {
    m.map_or_else(|| "—".into(), |(m, sd)| format!("{} ± {}", fmt(m), fmt(sd)))
}

#[component]
pub(super) fn Summary() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let r = ctx.results.get()?;
        let mut rows: Vec<(String, String)> = vec![
            ("model".into(), r.config.model.clone()),
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
        if let Some(s) = &r.stats {
            for (k, c) in [("heads", &s.heads), ("neurons", &s.neurons)] {
                rows.push((
                    format!("Pearson r IG vs AP, {k} (mean ± std over prompts)"),
                    format!("{} ± {}", fmt(c.pearson_mean), fmt(c.pearson_std)),
                ));
                rows.push((
                    format!(
                        "top-{:.0}% Jaccard overlap, {k}",
                        100.0 * (1.0 - r.config.percentile)
                    ),
                    fmt(c.jaccard_mean),
                ));
                rows.push((
                    format!("IG mean ± std, {k}"),
                    format!("{} ± {}", fmt(c.ig_mean), fmt(c.ig_std)),
                ));
                rows.push((
                    format!("AP mean ± std, {k}"),
                    format!("{} ± {}", fmt(c.ap_mean), fmt(c.ap_std)),
                ));
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
                "IG {} steps, {}, {} baseline; AP {}; highlight quantile {}",
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
