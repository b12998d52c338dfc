//! The comparison statistics of each pair of methods that ran.

use gradpatch_stats::{Comparison, compare};
use gradpatch_terms::MethodPair;
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

/// `stats_pairs` of `results.json`: one entry per pair of methods that ran, in
/// [`MethodPair::all`]'s order (written as `{"ig_ap": …, "atp_ap": …}`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsPairs {
    pairs: Vec<(MethodPair, Stats)>,
}

impl StatsPairs {
    pub fn get(&self, pair: MethodPair) -> Option<&Stats> {
        self.pairs.iter().find(|(p, _)| *p == pair).map(|(_, s)| s)
    }

    /// Sets `pair`'s statistics, keeping the pairs in order.
    pub fn insert(&mut self, pair: MethodPair, stats: Stats) {
        self.pairs.retain(|(p, _)| *p != pair);
        self.pairs.push((pair, stats));
        let order = MethodPair::all();
        let rank = |p: &MethodPair| order.iter().position(|q| q == p);
        self.pairs.sort_by_key(|(p, _)| rank(p));
    }

    pub fn iter(&self) -> impl Iterator<Item = (MethodPair, &Stats)> {
        self.pairs.iter().map(|(p, s)| (*p, s))
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// The statistics of `pair` over the prompts both methods scored (a cancelled run may have
/// scored fewer prompts with one method than with the other).
pub fn pair_stats(results: &Results, pair: MethodPair, percentile: f64) -> Option<Stats> {
    let (a, b) = (results.scores(pair.first)?, results.scores(pair.second)?);
    let flat = |s: &[Vec<Vec<f32>>]| -> Vec<Vec<f32>> { s.iter().map(|p| p.concat()).collect() };
    let n = a.heads.len().min(b.heads.len());
    let m = a.neurons.len().min(b.neurons.len());
    Some(Stats {
        heads: compare(&flat(&a.heads[..n]), &flat(&b.heads[..n]), percentile),
        neurons: compare(&flat(&a.neurons[..m]), &flat(&b.neurons[..m]), percentile),
    })
}

/// The study's own comparison, IG vs AP, of whatever both methods produced (`results.json`'s
/// `stats`).
pub fn statistics(results: &Results, percentile: f64) -> Option<Stats> {
    pair_stats(results, MethodPair::first_of_all(), percentile)
}

/// The statistics of every pair of methods with scores; `None` when fewer than two ran.
pub fn pair_statistics(results: &Results, percentile: f64) -> Option<StatsPairs> {
    let mut pairs = StatsPairs::default();
    for pair in results.method_set().pairs() {
        if let Some(stats) = pair_stats(results, pair, percentile) {
            pairs.insert(pair, stats);
        }
    }
    (!pairs.is_empty()).then_some(pairs)
}
