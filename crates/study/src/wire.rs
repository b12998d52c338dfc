//! The `results.json` layout of a comparison's configuration and results. The methods are
//! keyed by their names among the other fields, in [`Method::in_file_order`]: the methods of
//! the first files (IG, AP) always, `null` when they did not run, and every later method only
//! when it ran; likewise their `run_…` flags. Files written before a method existed so read
//! and write back byte for byte.

use std::collections::BTreeMap;
use std::fmt;

use gradpatch_terms::{
    Baseline, Direction, Method, MethodOutput, MethodSet, Processing, Quadrature, Ranking,
    StudyOptions,
};
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::nullable::Read;
use crate::{MethodScores, Results, Stats, StatsPairs, StudyConfig};

impl Serialize for StudyConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = &self.options;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("model", &self.model)?;
        m.serialize_entry("processing", &self.processing)?;
        for method in Method::in_file_order() {
            let on = o.methods.has(method);
            if on || method.in_first_version() {
                m.serialize_entry(&run_flag(method), &on)?;
            }
        }
        m.serialize_entry("ig_steps", &o.ig_steps)?;
        m.serialize_entry("ig_method", &o.ig_method)?;
        m.serialize_entry("ig_baseline", &o.ig_baseline)?;
        m.serialize_entry("ap_direction", &o.ap_direction)?;
        m.serialize_entry("percentile", &o.percentile)?;
        // Written only when set, as files from before scores per position have none.
        if o.positions {
            m.serialize_entry("positions", &true)?;
        }
        // Likewise: only when computed.
        if let Some(ranking) = o.faithfulness {
            m.serialize_entry("faithfulness", &ranking)?;
        }
        // The edge options, only when an edge method ran.
        if o.methods.has(Method::EapIg) {
            m.serialize_entry("eapig_steps", &o.eapig_steps)?;
        }
        if !o.methods.of(MethodOutput::Edges).is_empty() {
            m.serialize_entry("exact_edges", &o.exact_edges)?;
        }
        m.serialize_entry("prompts_source", &self.prompts_source)?;
        m.serialize_entry("backend", &self.backend)?;
        m.end()
    }
}

/// `run_ig`: whether `method` ran.
fn run_flag(method: Method) -> String {
    format!("run_{}", method.key())
}

/// The configuration's fields apart from the methods' flags, which are among `rest`.
#[derive(Deserialize)]
struct ConfigFields {
    model: String,
    processing: Processing,
    ig_steps: usize,
    ig_method: Quadrature,
    ig_baseline: Baseline,
    ap_direction: Direction,
    percentile: f64,
    #[serde(default)]
    positions: bool,
    #[serde(default)]
    faithfulness: Option<Ranking>,
    #[serde(default = "default_eapig_steps")]
    eapig_steps: usize,
    #[serde(default = "default_exact_edges")]
    exact_edges: usize,
    prompts_source: serde_json::Value,
    backend: String,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

fn default_eapig_steps() -> usize {
    StudyOptions::default().eapig_steps
}

fn default_exact_edges() -> usize {
    StudyOptions::default().exact_edges
}

impl<'de> Deserialize<'de> for StudyConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let c = ConfigFields::deserialize(d)?;
        let mut methods = MethodSet::NONE;
        for method in Method::ALL.iter().copied() {
            let flag = run_flag(method);
            match c.rest.get(&flag) {
                None => {}
                Some(serde_json::Value::Bool(on)) => methods.set(method, *on),
                Some(other) => {
                    return Err(de::Error::custom(format!(
                        "`{flag}` is {other}, expected true or false"
                    )));
                }
            }
        }
        Ok(StudyConfig {
            model: c.model,
            processing: c.processing,
            options: StudyOptions {
                methods,
                ig_steps: c.ig_steps,
                ig_method: c.ig_method,
                ig_baseline: c.ig_baseline,
                ap_direction: c.ap_direction,
                percentile: c.percentile,
                positions: c.positions,
                faithfulness: c.faithfulness,
                eapig_steps: c.eapig_steps,
                exact_edges: c.exact_edges,
            },
            prompts_source: c.prompts_source,
            backend: c.backend,
        })
    }
}

impl Serialize for Results {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("config", &self.config)?;
        m.serialize_entry("prompts", &self.prompts)?;
        m.serialize_entry("clean_logit_diff", &self.clean_logit_diff)?;
        m.serialize_entry("corrupted_logit_diff", &self.corrupted_logit_diff)?;
        for method in Method::in_file_order() {
            match self.scores.get(&method) {
                Some(scores) => m.serialize_entry(method.key(), scores)?,
                None if method.in_first_version() => {
                    m.serialize_entry(method.key(), &None::<MethodScores>)?;
                }
                None => {}
            }
        }
        m.serialize_entry("stats", &self.stats)?;
        if let Some(pairs) = &self.stats_pairs {
            m.serialize_entry("stats_pairs", pairs)?;
        }
        if let Some(f) = &self.faithfulness {
            m.serialize_entry("faithfulness", f)?;
        }
        if let Some(e) = &self.edges {
            m.serialize_entry("edges", e)?;
        }
        m.serialize_entry("complete", &self.complete)?;
        m.serialize_entry("seconds", &self.seconds)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Results {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ResultsVisitor)
    }
}

/// Reads the fields one by one (a method's scores straight into their arrays: a results.json
/// may hold hundreds of MB of them).
struct ResultsVisitor;

/// What has been read so far.
#[derive(Default)]
struct Partial {
    config: Option<StudyConfig>,
    prompts: Option<Vec<crate::PromptRecord>>,
    clean: Option<Vec<f32>>,
    corrupted: Option<Vec<f32>>,
    scores: BTreeMap<Method, MethodScores>,
    stats: Option<Stats>,
    stats_pairs: Option<StatsPairs>,
    faithfulness: Option<crate::Faithfulness>,
    edges: Option<crate::EdgeResults>,
    complete: Option<bool>,
    seconds: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Partial {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "config" => self.config = Some(map.next_value()?),
            "prompts" => self.prompts = Some(map.next_value()?),
            "clean_logit_diff" => self.clean = Some(map.next_value::<Read<Vec<f32>>>()?.0),
            "corrupted_logit_diff" => {
                self.corrupted = Some(map.next_value::<Read<Vec<f32>>>()?.0);
            }
            "stats" => self.stats = map.next_value()?,
            "stats_pairs" => self.stats_pairs = map.next_value()?,
            "faithfulness" => self.faithfulness = map.next_value()?,
            "edges" => self.edges = map.next_value()?,
            "complete" => self.complete = Some(map.next_value()?),
            "seconds" => self.seconds = Some(map.next_value()?),
            other => match other.parse::<Method>() {
                Ok(method) => {
                    if let Some(scores) = map.next_value::<Option<MethodScores>>()? {
                        self.scores.insert(method, scores);
                    }
                }
                // A field of a later version: skipped, as serde skips unknown fields.
                Err(_) => {
                    map.next_value::<IgnoredAny>()?;
                }
            },
        }
        Ok(())
    }

    fn finish<E: de::Error>(self) -> Result<Results, E> {
        Ok(Results {
            config: self.config.ok_or_else(|| E::missing_field("config"))?,
            prompts: self.prompts.ok_or_else(|| E::missing_field("prompts"))?,
            clean_logit_diff: self
                .clean
                .ok_or_else(|| E::missing_field("clean_logit_diff"))?,
            corrupted_logit_diff: self
                .corrupted
                .ok_or_else(|| E::missing_field("corrupted_logit_diff"))?,
            scores: self.scores,
            stats: self.stats,
            stats_pairs: self.stats_pairs,
            faithfulness: self.faithfulness,
            edges: self.edges,
            complete: self.complete.ok_or_else(|| E::missing_field("complete"))?,
            seconds: self.seconds.ok_or_else(|| E::missing_field("seconds"))?,
        })
    }
}

impl<'de> Visitor<'de> for ResultsVisitor {
    type Value = Results;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a results.json object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Results, A::Error> {
        let mut partial = Partial::default();
        while let Some(key) = map.next_key::<String>()? {
            partial.read(&key, &mut map)?;
        }
        partial.finish()
    }
}

impl Serialize for StatsPairs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (pair, stats) in self.iter() {
            m.serialize_entry(&pair.field(), stats)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for StatsPairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let fields = BTreeMap::<String, Stats>::deserialize(d)?;
        let mut pairs = StatsPairs::default();
        for (field, stats) in fields {
            // A pair of a later version's methods is skipped.
            if let Some(pair) = gradpatch_terms::MethodPair::from_field(&field) {
                pairs.insert(pair, stats);
            }
        }
        Ok(pairs)
    }
}
