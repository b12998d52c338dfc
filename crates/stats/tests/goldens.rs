//! The statistics of the reference's own IG and AP scores equal its recorded summaries
//! (`summary_zero_ig_vs_ap`, `summary_aligned_seed_ig_vs_ap`, processed and unprocessed).
//! Pearson is computed in f64 by both: 1e-9. Thresholds are float32 quantiles: 1e-7 relative.
//! Jaccard is divided in float32 by the reference: 1e-7. Mean-difference statistics are float32
//! in sklearn/numpy and f64 here: 1e-6.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gradpatch_stats::{compare, jaccard, pearson, quantile};
use gradpatch_testdata::{array, at, goldens, zip_eq};
use serde_json::Value;

fn rows(v: &Value) -> Vec<Vec<f32>> {
    let (shape, data) = array(v);
    data.chunks(shape[1..].iter().product())
        .map(|c| c.iter().map(|&x| x as f32).collect())
        .collect()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key}"))
}

fn close(what: &str, a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

fn check(variant: &str, summary: &str, ig_key: &str) {
    let r = at(goldens(), &format!("results/{variant}"));
    for kind in ["heads", "neurons"] {
        let ig = rows(&r["ig"][ig_key][kind]);
        let ap = rows(&r[&format!("ap_{kind}")]);
        let s = &r[summary][kind];
        let c = compare(&ig, &ap, 0.9);
        let what = format!("{variant} {summary} {kind}");
        let (_, pp) = array(&s["pearson_per_prompt"]);
        for (a, b) in zip_eq(&what, &c.pearson_per_prompt, &pp) {
            close(&format!("{what} pearson"), *a, *b, 1e-9);
        }
        close(
            &format!("{what} pearson mean"),
            c.pearson_mean,
            num(s, "pearson_mean"),
            1e-9,
        );
        close(
            &format!("{what} pearson std"),
            c.pearson_std,
            num(s, "pearson_std_population"),
            1e-9,
        );
        close(
            &format!("{what} threshold ig"),
            c.threshold_ig,
            num(s, "highlight_threshold_ig"),
            1e-7,
        );
        close(
            &format!("{what} threshold ap"),
            c.threshold_ap,
            num(s, "highlight_threshold_ap"),
            1e-7,
        );
        let (_, hi) = array(&s["highlighted_ig"]);
        let (_, ha) = array(&s["highlighted_ap"]);
        assert_eq!(
            c.highlighted_ig
                .concat()
                .iter()
                .map(|&b| f64::from(u8::from(b)))
                .collect::<Vec<_>>(),
            hi,
            "{what}"
        );
        assert_eq!(
            c.highlighted_ap
                .concat()
                .iter()
                .map(|&b| f64::from(u8::from(b)))
                .collect::<Vec<_>>(),
            ha,
            "{what}"
        );
        let (_, jp) = array(&s["jaccard_per_prompt"]);
        // The reference divides in float32.
        for (a, b) in zip_eq(&what, &c.jaccard_per_prompt, &jp) {
            close(&format!("{what} jaccard"), *a, *b, 1e-7);
        }
        close(
            &format!("{what} jaccard mean"),
            c.jaccard_mean,
            num(s, "jaccard_mean"),
            1e-7,
        );
        let md = &s["mean_diff_plot"];
        for (mine, key) in [
            (c.mean_difference, "mean_difference"),
            (c.sd_difference, "sd_difference"),
            (c.upper_loa, "upper_loa"),
            (c.lower_loa, "lower_loa"),
            (c.ig_max_abs, "ig_max_abs"),
            (c.ap_max_abs, "ap_max_abs"),
        ] {
            close(&format!("{what} {key}"), mine, num(md, key), 1e-6);
        }
    }
}

#[test]
fn zero_baseline_summaries() {
    check("tl_processed", "summary_zero_ig_vs_ap", "zero");
    check("tl_unprocessed", "summary_zero_ig_vs_ap", "zero");
}

#[test]
fn aligned_summaries() {
    check(
        "tl_processed",
        "summary_aligned_seed_ig_vs_ap",
        "aligned_seed_clean_corrupt",
    );
}

#[test]
fn building_blocks() {
    assert!(
        (pearson(&[1.0, 2.0, 3.0, f32::NAN], &[2.0, 4.0, 6.5, 1.0]) - 0.9986).abs() < 1e-3,
        "pearson leaves out the pair with a NaN (about 0.9986)"
    );
    assert!(pearson(&[1.0, 1.0], &[1.0, 2.0]).is_nan(), "zero variance");
    assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.9), 4.6f32 as f64);
    assert_eq!(jaccard(&[false, false], &[false, false]), 1.0);
    assert_eq!(
        jaccard(&[true, true, false], &[true, false, true]),
        1.0 / 3.0
    );
}
