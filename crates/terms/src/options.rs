//! The options of a comparison: what runs, how, on which prompts and where.

use serde::{Deserialize, Serialize};

keyed_enum! {
    /// The IG baseline.
    pub enum Baseline ("IG baseline") {
        /// Zero input activation (the reference study's main comparison).
        Zero = "zero",
        /// The corrupted run's activation (the reference's `aligned_clean_input`).
        Corrupted = "corrupted",
    }
}

keyed_enum! {
    /// The AP direction.
    pub enum Direction ("AP direction") {
        /// Clean run, corrupted activation patched in (the reference's forward AP).
        Noising = "noising",
        /// Corrupted run, clean activation patched in (the reference's reverse AP).
        Denoising = "denoising",
    }
}

keyed_enum! {
    /// How the corrupted prompt of a generated IOI pair is made.
    pub enum Corruption ("corruption") {
        /// S2 replaced by the indirect object (the reference's default).
        Aba = "aba",
        /// S2 replaced by a third name.
        Abc = "abc",
    }
}

keyed_enum! {
    /// Where the page computes.
    pub enum Backend ("backend") {
        /// WebGPU when the browser has it, else the CPU.
        Auto = "auto",
        /// The CPU even when WebGPU is there.
        Cpu = "cpu",
    }
}

keyed_enum! {
    /// A part of a comparison, as progress reports it.
    pub enum Stage ("stage") {
        /// The clean and corrupted runs of every prompt.
        Runs = "runs",
        Atp = "atp",
        Ig = "ig",
        Ap = "ap",
        /// AP of each head at each position (`--positions`).
        ApPositions = "ap-positions",
    }
}

impl Stage {
    /// How the page names the stage in its progress line.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Runs => "runs",
            Stage::Atp => "AtP",
            Stage::Ig => "IG",
            Stage::Ap => "AP",
            Stage::ApPositions => "AP per position",
        }
    }
}

keyed_enum! {
    /// An attribution method, in the order a comparison runs them (the cheapest first, so the
    /// page shows its scores while the others run).
    pub enum Method ("method") {
        /// Attribution patching: the gradient approximation of AP (one forward and backward).
        Atp = "atp",
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
            Method::Ig => "IG",
            Method::Ap => "AP",
        }
    }
}

keyed_enum! {
    /// Two methods whose scores are compared; the statistics' `*_ig` fields belong to the first,
    /// `*_ap` fields to the second, and the mean difference is second − first.
    pub enum MethodPair ("method pair") {
        IgAp = "ig-ap",
        AtpAp = "atp-ap",
        IgAtp = "ig-atp",
    }
}

impl MethodPair {
    pub fn methods(self) -> (Method, Method) {
        match self {
            MethodPair::IgAp => (Method::Ig, Method::Ap),
            MethodPair::AtpAp => (Method::Atp, Method::Ap),
            MethodPair::IgAtp => (Method::Ig, Method::Atp),
        }
    }

    /// The pair's field in `results.json`'s `stats_pairs`.
    pub fn field(self) -> &'static str {
        match self {
            MethodPair::IgAp => "ig_ap",
            MethodPair::AtpAp => "atp_ap",
            MethodPair::IgAtp => "ig_atp",
        }
    }

    /// "IG–AP".
    pub fn label(self) -> String {
        let (a, b) = self.methods();
        format!("{}–{}", a.label(), b.label())
    }
}

/// Which attribution methods a comparison runs (statistics compare every pair that ran).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MethodSet {
    pub ig: bool,
    pub ap: bool,
    /// Absent in messages and files written before AtP existed: off there.
    #[serde(default)]
    pub atp: bool,
}

impl MethodSet {
    pub const ALL: MethodSet = MethodSet {
        ig: true,
        ap: true,
        atp: true,
    };
    pub const NONE: MethodSet = MethodSet {
        ig: false,
        ap: false,
        atp: false,
    };

    pub fn is_empty(self) -> bool {
        !self.ig && !self.ap && !self.atp
    }

    pub fn has(self, method: Method) -> bool {
        match method {
            Method::Atp => self.atp,
            Method::Ig => self.ig,
            Method::Ap => self.ap,
        }
    }

    pub fn set(&mut self, method: Method, on: bool) {
        match method {
            Method::Atp => self.atp = on,
            Method::Ig => self.ig = on,
            Method::Ap => self.ap = on,
        }
    }

    /// The methods in this set, in running order.
    pub fn iter(self) -> impl Iterator<Item = Method> {
        Method::ALL.iter().copied().filter(move |&m| self.has(m))
    }

    /// `"atp,ig"`: the CLI's spelling.
    pub fn keys(self) -> String {
        self.iter().map(Method::key).collect::<Vec<_>>().join(",")
    }

    /// The pairs of methods in this set.
    pub fn pairs(self) -> impl Iterator<Item = MethodPair> {
        MethodPair::ALL.iter().copied().filter(move |p| {
            let (a, b) = p.methods();
            self.has(a) && self.has(b)
        })
    }
}

impl Default for MethodSet {
    fn default() -> Self {
        Self::ALL
    }
}

impl std::str::FromStr for MethodSet {
    type Err = String;

    /// `ig,ap,atp` in any order (the CLI's `--methods`).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut set = MethodSet::NONE;
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let method: Method = name.parse().map_err(|e: String| {
                format!("{e} (in a comma-separated list such as ig,ap,atp)")
            })?;
            set.set(method, true);
        }
        if set.is_empty() {
            return Err(
                "no method given: expected a comma-separated list of ig, ap and atp".into(),
            );
        }
        Ok(set)
    }
}

/// Which TransformerLens weight-processing steps to apply (`gradpatch_model::processing`
/// applies them). `Default` is what `from_pretrained` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processing {
    pub fold_ln: bool,
    pub center_writing_weights: bool,
    pub center_unembed: bool,
    pub fold_value_biases: bool,
}

impl Default for Processing {
    fn default() -> Self {
        Self::all()
    }
}

impl Processing {
    pub fn all() -> Self {
        Self {
            fold_ln: true,
            center_writing_weights: true,
            center_unembed: true,
            fold_value_biases: true,
        }
    }

    /// `from_pretrained_no_processing`: the model exactly as stored.
    pub fn none() -> Self {
        Self {
            fold_ln: false,
            center_writing_weights: false,
            center_unembed: false,
            fold_value_biases: false,
        }
    }
}
