//! The attribution methods, the sets of them a comparison runs, and the pairs it compares.
//! [`Method`] is the one list of methods: everything else (sets, pairs, link flags, the fields
//! of `results.json`, the page's checkboxes) is derived from it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{StudyOptions, UnknownName};

keyed_enum! {
    /// An attribution method, in the order a comparison runs them (the cheapest first, so the
    /// page shows its scores while the others run) and the page lists them.
    pub enum Method ("method") {
        /// Attribution patching: the gradient approximation of AP (one forward and backward).
        Atp = "atp",
        /// Edge attribution patching: AtP of every edge between components (one forward and
        /// backward).
        Eap = "eap",
        /// EAP with integrated gradients (the inputs variant, `eapig_steps` steps).
        EapIg = "eapig",
        /// Layerwise Integrated Gradients.
        Ig = "ig",
        /// Activation patching (one patched run per component).
        Ap = "ap",
    }
}

impl Method {
    /// How the page and the CLI's summary name it.
    pub fn label(self) -> &'static str {
        match self {
            Method::Atp => "AtP",
            Method::Eap => "EAP",
            Method::EapIg => "EAP-IG",
            Method::Ig => "IG",
            Method::Ap => "AP",
        }
    }

    /// What the method scores: components (heads and neurons) or the edges between them.
    pub fn output(self) -> MethodOutput {
        match self {
            Method::Atp | Method::Ig | Method::Ap => MethodOutput::Nodes,
            Method::Eap | Method::EapIg => MethodOutput::Edges,
        }
    }

    /// Whether the method scores heads and neurons (the grids, pairs and statistics).
    pub fn scores_nodes(self) -> bool {
        self.output() == MethodOutput::Nodes
    }

    /// How directly the method measures what patching a component does: IG integrates
    /// gradients along a path (0), AtP is patching's first-order estimate (1), AP is patching
    /// (2). A pair compares the less direct method against the more direct one.
    /// Edge methods follow the same scale (EAP-IG integrates, EAP is first-order) but are
    /// never paired with node methods.
    pub fn directness(self) -> u8 {
        match self {
            Method::Ig | Method::EapIg => 0,
            Method::Atp | Method::Eap => 1,
            Method::Ap => 2,
        }
    }

    /// Whether the method was in gradpatch's first files and links (IG and AP): `results.json`
    /// always writes their fields (`null` and `run_…: false` when they did not run) and lists
    /// them first, links write their flags first; a later method is written after them, and
    /// only when it ran. Files and links written before a method existed so stay as they were.
    pub fn in_first_version(self) -> bool {
        match self {
            Method::Ig | Method::Ap => true,
            Method::Atp | Method::Eap | Method::EapIg => false,
        }
    }

    /// Whether the method's per-position head scores come out of the pass that computes its
    /// scores (AtP's and IG's terms before their sum) rather than a pass of their own (AP per
    /// head and position patches each position apart). Edge methods have no head scores.
    pub fn positions_with_scores(self) -> bool {
        match self {
            Method::Atp | Method::Ig | Method::Eap | Method::EapIg => true,
            Method::Ap => false,
        }
    }

    /// Seconds the method's scores of one prompt take on GPT-2 small natively (2 cores, an
    /// 18-token prompt; BENCHMARKS.md, "Attribution sweeps"): AtP 0.5 s, IG 43.2 s at 50 steps
    /// (in proportion to the steps), the AP sweep 195 s; EAP 0.54 s, EAP-IG 1.03 s at 5 steps
    /// (BENCHMARKS.md, "Edges").
    pub fn gpt2_seconds(self, options: &StudyOptions) -> f64 {
        match self {
            Method::Atp => 0.5,
            Method::Eap => 0.54,
            Method::EapIg => 1.03 * options.eapig_steps as f64 / 5.0,
            Method::Ig => 43.2 * options.ig_steps as f64 / 50.0,
            Method::Ap => 195.0,
        }
    }

    /// Seconds its per-position head scores of one prompt take when they need a pass of their
    /// own (AP per head and position: 7 s); 0 when they come with the scores.
    pub fn gpt2_positions_seconds(self) -> f64 {
        match self {
            Method::Ap => 7.0,
            Method::Atp | Method::Ig | Method::Eap | Method::EapIg => 0.0,
        }
    }

    /// Whether a comparison runs the method unless told otherwise (the page's box ticked, links
    /// that do not name it, the CLI without `--methods`). A method added later is off by
    /// default, so that a link written before it existed keeps its meaning.
    pub fn on_by_default(self) -> bool {
        match self {
            Method::Atp | Method::Ig | Method::Ap => true,
            Method::Eap | Method::EapIg => false,
        }
    }

    /// Every method in the order files and links list them (see [`Method::in_first_version`]).
    pub fn in_file_order() -> impl Iterator<Item = Method> {
        let first = Method::ALL.iter().copied().filter(|m| m.in_first_version());
        let later = Method::ALL
            .iter()
            .copied()
            .filter(|m| !m.in_first_version());
        // IG before AP, as the first files wrote them.
        let mut first: Vec<Method> = first.collect();
        first.sort_by_key(|m| m.directness());
        first.into_iter().chain(later)
    }
}

/// What a method scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodOutput {
    /// Heads and neurons: `[L][H]` and `[L][M]` grids per prompt.
    Nodes,
    /// The edges of the model's graph ([`crate::EdgeGraph`]), one score each per prompt.
    Edges,
}

/// Which attribution methods a comparison runs (statistics compare every pair that ran).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MethodSet {
    /// Bit i: `Method::ALL[i]`.
    bits: u32,
}

fn bit(method: Method) -> u32 {
    // A fieldless enum's discriminants count from 0 in declaration order, as `ALL` lists them.
    1 << method as u32
}

impl MethodSet {
    pub const NONE: MethodSet = MethodSet { bits: 0 };

    /// Every method.
    pub fn all() -> MethodSet {
        Method::ALL.iter().copied().collect()
    }

    /// The methods a comparison runs unless told otherwise ([`Method::on_by_default`]).
    pub fn default_on() -> MethodSet {
        Method::ALL
            .iter()
            .copied()
            .filter(|m| m.on_by_default())
            .collect()
    }

    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    pub fn has(self, method: Method) -> bool {
        self.bits & bit(method) != 0
    }

    pub fn set(&mut self, method: Method, on: bool) {
        if on {
            self.bits |= bit(method);
        } else {
            self.bits &= !bit(method);
        }
    }

    /// This set with `method` on or off.
    pub fn with(mut self, method: Method, on: bool) -> MethodSet {
        self.set(method, on);
        self
    }

    /// The methods in this set, in running order.
    pub fn iter(self) -> impl Iterator<Item = Method> {
        Method::ALL.iter().copied().filter(move |&m| self.has(m))
    }

    /// The methods of this set that score `output`.
    pub fn of(self, output: MethodOutput) -> MethodSet {
        self.iter().filter(|m| m.output() == output).collect()
    }

    /// `"atp,ig"`: the CLI's spelling.
    pub fn keys(self) -> String {
        self.iter().map(Method::key).collect::<Vec<_>>().join(",")
    }

    /// The pairs of methods in this set, in [`MethodPair::all`]'s order.
    pub fn pairs(self) -> impl Iterator<Item = MethodPair> {
        MethodPair::all()
            .into_iter()
            .filter(move |p| self.has(p.first) && self.has(p.second))
    }
}

impl FromIterator<Method> for MethodSet {
    fn from_iter<I: IntoIterator<Item = Method>>(iter: I) -> Self {
        iter.into_iter()
            .fold(MethodSet::NONE, |set, m| set.with(m, true))
    }
}

/// A list of methods that names none, or a name that is no method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodListError {
    Unknown(UnknownName),
    Empty,
}

impl fmt::Display for MethodListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let example = Method::in_file_order()
            .map(Method::key)
            .collect::<Vec<_>>()
            .join(",");
        match self {
            MethodListError::Unknown(e) => {
                write!(f, "{e} (in a comma-separated list such as {example})")
            }
            MethodListError::Empty => write!(
                f,
                "no method given: expected a comma-separated list of {}",
                crate::alternatives(Method::ALL.iter().map(|m| m.key()), "and")
            ),
        }
    }
}

impl std::error::Error for MethodListError {}

impl FromStr for MethodSet {
    type Err = MethodListError;

    /// `ig,ap,atp` in any order (the CLI's `--methods`).
    fn from_str(s: &str) -> Result<Self, MethodListError> {
        let mut set = MethodSet::NONE;
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let method: Method = name.parse().map_err(MethodListError::Unknown)?;
            set.set(method, true);
        }
        if set.is_empty() {
            return Err(MethodListError::Empty);
        }
        Ok(set)
    }
}

/// `atp,ig`: the CLI's spelling (as [`MethodSet::keys`]).
impl fmt::Display for MethodSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.keys())
    }
}

/// Messages between the page and its worker carry a set as its methods' names.
impl Serialize for MethodSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for MethodSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Method>::deserialize(d)?.into_iter().collect())
    }
}

/// Two methods whose scores are compared: `first` is the less direct one (see
/// [`Method::directness`]). The statistics' `*_ig` fields belong to `first`, the `*_ap` fields
/// to `second` (the names of the IG–AP statistics, which every pair keeps), and the mean
/// difference is second − first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodPair {
    pub first: Method,
    pub second: Method,
}

impl MethodPair {
    /// The pair of two different methods, whichever order they come in.
    pub fn of(a: Method, b: Method) -> Option<MethodPair> {
        match a.directness().cmp(&b.directness()) {
            std::cmp::Ordering::Less => Some(MethodPair {
                first: a,
                second: b,
            }),
            std::cmp::Ordering::Greater => Some(MethodPair {
                first: b,
                second: a,
            }),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// Every unordered pair of node methods: those against the most direct method first, each
    /// group in order of directness (IG–AP, AtP–AP, IG–AtP). The first is the study's own
    /// comparison and the page's default. Edge methods are compared by how many of exact
    /// patching's top edges they find instead.
    pub fn all() -> Vec<MethodPair> {
        let mut by_directness: Vec<Method> = Method::ALL
            .iter()
            .copied()
            .filter(|m| m.scores_nodes())
            .collect();
        by_directness.sort_by_key(|m| m.directness());
        let mut pairs = Vec::new();
        for (j, &second) in by_directness.iter().enumerate().rev() {
            for &first in &by_directness[..j] {
                pairs.extend(MethodPair::of(first, second));
            }
        }
        pairs
    }

    /// The study's own comparison, IG–AP.
    pub fn first_of_all() -> MethodPair {
        MethodPair {
            first: Method::Ig,
            second: Method::Ap,
        }
    }

    pub fn methods(self) -> (Method, Method) {
        (self.first, self.second)
    }

    /// `ig-ap`: the pair in links.
    pub fn key(self) -> String {
        format!("{}-{}", self.first.key(), self.second.key())
    }

    /// `ig_ap`: the pair's field in `results.json`'s `stats_pairs`.
    pub fn field(self) -> String {
        format!("{}_{}", self.first.key(), self.second.key())
    }

    /// The pair whose field is `field`.
    pub fn from_field(field: &str) -> Option<MethodPair> {
        MethodPair::all().into_iter().find(|p| p.field() == field)
    }

    /// "IG–AP".
    pub fn label(self) -> String {
        format!("{}–{}", self.first.label(), self.second.label())
    }
}

impl Default for MethodPair {
    fn default() -> Self {
        MethodPair::first_of_all()
    }
}

impl fmt::Display for MethodPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl FromStr for MethodPair {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        let all = MethodPair::all();
        all.iter()
            .copied()
            .find(|p| p.key() == s)
            .ok_or_else(|| UnknownName::new("method pair", s, all.iter().map(|p| p.key())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<E: std::fmt::Display>(r: Result<impl std::fmt::Debug, E>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn method_lists_parse_and_say_what_was_wrong() {
        let set: MethodSet = "ap, atp".parse().unwrap_or(MethodSet::NONE);
        assert_eq!(
            set,
            MethodSet::NONE
                .with(Method::Ap, true)
                .with(Method::Atp, true)
        );
        assert_eq!(
            set.pairs().collect::<Vec<_>>(),
            MethodPair::of(Method::Atp, Method::Ap)
                .into_iter()
                .collect::<Vec<_>>()
        );
        let n = MethodSet::all().of(MethodOutput::Nodes).iter().count();
        assert_eq!(MethodSet::all().pairs().count(), n * (n - 1) / 2);
        assert_eq!(
            message("ig,xx".parse::<MethodSet>()),
            "unknown method \"xx\", expected atp, eap, eapig, ig or ap \
             (in a comma-separated list such as ig,ap,atp,eap,eapig)"
        );
        assert_eq!(
            message("".parse::<MethodSet>()),
            "no method given: expected a comma-separated list of atp, eap, eapig, ig and ap"
        );
        let atp_ap = MethodPair::of(Method::Atp, Method::Ap);
        assert_eq!(atp_ap.map(MethodPair::label).as_deref(), Some("AtP–AP"));
        assert_eq!(
            message("ig-xx".parse::<MethodPair>()),
            "unknown method pair \"ig-xx\", expected ig-ap, atp-ap or ig-atp"
        );
    }

    #[test]
    fn pairs_come_from_the_methods_in_the_order_files_keep_them() {
        let keys: Vec<String> = MethodPair::all().iter().map(|p| p.key()).collect();
        assert_eq!(keys, ["ig-ap", "atp-ap", "ig-atp"]);
        assert_eq!(MethodPair::default().field(), "ig_ap");
        assert_eq!(
            MethodPair::of(Method::Ap, Method::Atp),
            MethodPair::of(Method::Atp, Method::Ap)
        );
        assert_eq!(MethodPair::of(Method::Ig, Method::Ig), None);
        assert_eq!(
            MethodPair::from_field("ig_atp").map(MethodPair::methods),
            Some((Method::Ig, Method::Atp))
        );
        let n = 3;
        assert_eq!(
            MethodPair::all().len(),
            n * (n - 1) / 2,
            "every unordered pair of node methods"
        );
        assert!(
            MethodPair::all()
                .iter()
                .all(|p| p.first.scores_nodes() && p.second.scores_nodes())
        );
    }

    #[test]
    fn file_order_lists_the_first_version_first() {
        let keys: Vec<&str> = Method::in_file_order().map(Method::key).collect();
        assert_eq!(keys, ["ig", "ap", "atp", "eap", "eapig"]);
    }

    #[test]
    fn sets_collect_iterate_and_name_their_methods() {
        let set: MethodSet = [Method::Ap, Method::Atp].into_iter().collect();
        assert!(set.has(Method::Ap) && set.has(Method::Atp) && !set.has(Method::Ig));
        assert_eq!(set.keys(), "atp,ap");
        assert_eq!(MethodSet::all().iter().count(), Method::ALL.len());
        assert_eq!(MethodSet::all().of(MethodOutput::Edges).keys(), "eap,eapig");
        assert_eq!(MethodSet::default_on().keys(), "atp,ig,ap");
        let json = serde_json::to_string(&set).unwrap_or_default();
        assert_eq!(json, r#"["atp","ap"]"#);
        assert_eq!(serde_json::from_str::<MethodSet>(&json).ok(), Some(set));
    }
}
