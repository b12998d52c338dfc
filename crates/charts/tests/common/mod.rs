//! The study configuration the charts tests build their results with.
#![allow(clippy::unwrap_used)]

use gradpatch_study::StudyConfig;

/// IG (50 Gauss–Legendre steps, zero baseline) and AP (noising) on a processed model.
pub fn study_config() -> StudyConfig {
    serde_json::from_value(serde_json::json!({
        "model": "test", "processing": {"fold_ln": true, "center_writing_weights": true,
        "center_unembed": true, "fold_value_biases": true}, "run_ig": true, "run_ap": true,
        "ig_steps": 50, "ig_method": "gausslegendre", "ig_baseline": "zero",
        "ap_direction": "noising", "percentile": 0.9, "prompts_source": null, "backend": "ndarray"
    }))
    .unwrap()
}

/// IG vs AP, the study's own pair.
pub fn ig_ap() -> gradpatch_terms::MethodPair {
    gradpatch_terms::MethodPair::first_of_all()
}

/// Results of `config` with the scores of `methods`, and no statistics yet.
pub fn results_with(
    clean: Vec<f32>,
    corrupted: Vec<f32>,
    methods: Vec<(gradpatch_terms::Method, gradpatch_study::MethodScores)>,
) -> gradpatch_study::Results {
    let mut r = gradpatch_study::Results::empty(study_config());
    r.clean_logit_diff = clean;
    r.corrupted_logit_diff = corrupted;
    r.scores = methods.into_iter().collect();
    r
}
