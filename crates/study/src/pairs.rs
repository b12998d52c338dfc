//! The comparison statistics of each pair of methods that ran.

use gradpatch_stats::{Comparison, compare};
use gradpatch_terms::{MethodPair, MethodSet};
use serde::{Deserialize, Serialize};

use crate::Results;

/// The statistics of two methods' head scores and neuron scores. The `*_ig` fields belong to
/// the pair's first method, the `*_ap` fields to its second (the names of the IG–AP statistics,
/// which every pair keeps).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub heads: Comparison,
    pub neurons: Comparison,
}

/// `stats_pairs` of `results.json`: one entry per pair of methods that ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsPairs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ig_ap: Option<Stats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atp_ap: Option<Stats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ig_atp: Option<Stats>,
}

impl StatsPairs {
    pub fn get(&self, pair: MethodPair) -> Option<&Stats> {
        match pair {
            MethodPair::IgAp => self.ig_ap.as_ref(),
            MethodPair::AtpAp => self.atp_ap.as_ref(),
            MethodPair::IgAtp => self.ig_atp.as_ref(),
        }
    }

    fn slot(&mut self, pair: MethodPair) -> &mut Option<Stats> {
        match pair {
            MethodPair::IgAp => &mut self.ig_ap,
            MethodPair::AtpAp => &mut self.atp_ap,
            MethodPair::IgAtp => &mut self.ig_atp,
        }
    }
}

/// The statistics of `pair` over the prompts both methods scored (a cancelled run may have
/// scored fewer prompts with one method than with the other).
pub fn pair_stats(results: &Results, pair: MethodPair, percentile: f64) -> Option<Stats> {
    let (a, b) = pair.methods();
    let ((a_heads, a_neurons), (b_heads, b_neurons)) = (results.scores(a)?, results.scores(b)?);
    let flat = |s: &[Vec<Vec<f32>>]| -> Vec<Vec<f32>> { s.iter().map(|p| p.concat()).collect() };
    let n = a_heads.len().min(b_heads.len());
    let m = a_neurons.len().min(b_neurons.len());
    Some(Stats {
        heads: compare(&flat(&a_heads[..n]), &flat(&b_heads[..n]), percentile),
        neurons: compare(&flat(&a_neurons[..m]), &flat(&b_neurons[..m]), percentile),
    })
}

/// IG-vs-AP statistics of whatever both methods produced (`results.json`'s `stats`).
pub fn statistics(results: &Results, percentile: f64) -> Option<Stats> {
    pair_stats(results, MethodPair::IgAp, percentile)
}

/// The statistics of every pair of methods with scores; `None` when fewer than two ran.
pub fn pair_statistics(results: &Results, percentile: f64) -> Option<StatsPairs> {
    let ran = MethodSet {
        ig: results.ig.is_some(),
        ap: results.ap.is_some(),
        atp: results.atp.is_some(),
    };
    let mut pairs = StatsPairs::default();
    let mut any = false;
    for pair in ran.pairs() {
        *pairs.slot(pair) = pair_stats(results, pair, percentile);
        any |= pairs.get(pair).is_some();
    }
    any.then_some(pairs)
}
