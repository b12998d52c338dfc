//! `key=value&…` reading and writing, percent-encoded (UTF-8).

use std::fmt;

use gradpatch_terms::{
    Backend, Component, Corruption, Keyed, Method, MethodOutput, MethodPair, PromptPair, Prompts,
    Ranking, StudyOptions,
};

use crate::pairs_param::{pairs_text, parse_pairs};
use crate::{
    BUNDLED_CIRCUIT, CircuitChoice, GraphView, MAX_PROMPTS, MAX_STEPS, ModelChoice, ModelUrl,
    PageState, ParamError, Preset, ResultsLink, Tab, Warning,
};

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` and `+` (as a space); `None` when the result is not UTF-8 or an escape is
/// broken.
pub fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn flag(v: &str) -> Result<bool, ParamError> {
    match v {
        "1" | "true" | "on" => Ok(true),
        "0" | "false" | "off" => Ok(false),
        _ => Err(ParamError::Flag),
    }
}

fn number<T>(v: &str, lo: T, hi: T, what: &'static str) -> Result<T, ParamError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    match v.parse::<T>() {
        Ok(x) if x >= lo && x <= hi => Ok(x),
        _ => Err(ParamError::Number {
            what,
            lo: lo.to_string(),
            hi: hi.to_string(),
        }),
    }
}

/// The IOI parameters and custom pairs read so far: which one the task is is known only at the
/// end of the link.
struct TaskParts {
    n: usize,
    seed: u64,
    corrupt: Corruption,
    custom: Option<Vec<PromptPair>>,
    is_custom: bool,
}

impl TaskParts {
    fn new() -> Self {
        let (n, seed, corrupt) = match Prompts::default() {
            Prompts::Ioi { n, seed, corrupt } => (n, seed, corrupt),
            Prompts::Custom(_) => (8, 0, Corruption::Aba),
        };
        Self {
            n,
            seed,
            corrupt,
            custom: None,
            is_custom: false,
        }
    }

    /// Reads a task parameter; `None` when `key` is not one.
    fn read(
        &mut self,
        key: &str,
        v: &str,
        warnings: &mut Vec<Warning>,
    ) -> Option<Result<(), ParamError>> {
        Some(match key {
            "task" => match v {
                "ioi" | "custom" => {
                    self.is_custom = v == "custom";
                    Ok(())
                }
                _ => Err(ParamError::Task),
            },
            "n" => number(v, 1, MAX_PROMPTS, "a prompt count").map(|x| self.n = x),
            "seed" => number(v, 0, u64::MAX, "a seed").map(|x| self.seed = x),
            "corrupt" => v
                .parse()
                .map(|c| self.corrupt = c)
                .map_err(ParamError::Name),
            "pairs" => parse_pairs(v).map_err(ParamError::Pairs).map(|p| {
                if !p.dropped.is_empty() {
                    warnings.push(Warning::new("pairs", ParamError::Dropped(p.dropped)));
                }
                self.custom = Some(p.pairs);
            }),
            _ => return None,
        })
    }

    fn finish(self, warnings: &mut Vec<Warning>) -> Prompts {
        let ioi = Prompts::Ioi {
            n: self.n,
            seed: self.seed,
            corrupt: self.corrupt,
        };
        match (self.is_custom, self.custom) {
            (true, Some(pairs)) => Prompts::Custom(pairs),
            (true, None) => {
                warnings.push(Warning::new("task", ParamError::CustomWithoutPairs));
                ioi
            }
            (false, _) => ioi,
        }
    }
}

/// Reads a model, method or view parameter into `s`; `None` when `key` is none of them.
fn read_state(s: &mut PageState, key: &str, v: &str) -> Option<Result<(), ParamError>> {
    if key == Method::EapIg.key() {
        return Some(read_eapig(&mut s.options, v));
    }
    if let Some(method) = Method::from_key(key) {
        return Some(flag(v).map(|on| s.options.methods.set(method, on)));
    }
    let o = &mut s.options;
    Some(match key {
        "results" => ResultsLink::parse(v)
            .map(|r| s.results = Some(r))
            .map_err(ParamError::Results),
        "model" => read_model(v).map(|m| s.model = m),
        "processing" => flag(v).map(|b| s.processing = b),
        "backend" => v.parse().map(|b| s.backend = b).map_err(ParamError::Name),
        "pos" => flag(v).map(|b| o.positions = b),
        "faith" => read_faith(v).map(|f| o.faithfulness = f),
        "circuit" => read_circuit(v).map(|c| s.circuit = c),
        "outline" => flag(v).map(|b| s.view.outlines = b),
        "steps" => number(v, 1, MAX_STEPS, "a step count").map(|x| o.ig_steps = x),
        "exact" => number(v, 0, StudyOptions::MAX_EXACT_EDGES, "a number of edges")
            .map(|x| o.exact_edges = x),
        "quad" => v.parse().map(|x| o.ig_method = x).map_err(ParamError::Name),
        "baseline" => v
            .parse()
            .map(|x| o.ig_baseline = x)
            .map_err(ParamError::Name),
        "dir" => v
            .parse()
            .map(|x| o.ap_direction = x)
            .map_err(ParamError::Name),
        "pct" => match v.parse::<f64>() {
            Ok(p) if p > 0.0 && p < 1.0 => {
                o.percentile = p;
                Ok(())
            }
            _ => Err(ParamError::Percentile),
        },
        _ => return read_view(s, key, v),
    })
}

/// `eapig=5`: EAP-IG on with 5 steps; `eapig=0`: off.
fn read_eapig(o: &mut StudyOptions, v: &str) -> Result<(), ParamError> {
    let steps = number(v, 0, StudyOptions::MAX_EAPIG_STEPS, "a step count (0: off)")?;
    o.methods.set(Method::EapIg, steps > 0);
    if steps > 0 {
        o.eapig_steps = steps;
    }
    Ok(())
}

fn read_circuit(v: &str) -> Result<CircuitChoice, ParamError> {
    match v.trim() {
        "none" => Ok(CircuitChoice::Off),
        BUNDLED_CIRCUIT => Ok(CircuitChoice::Bundled),
        link => ResultsLink::parse(link)
            .map(CircuitChoice::Link)
            .map_err(ParamError::Circuit),
    }
}

/// `faith=1` (ranking by |score|), `faith=signed`, `faith=0`.
fn read_faith(v: &str) -> Result<Option<Ranking>, ParamError> {
    match v {
        "1" | "abs" => Ok(Some(Ranking::Abs)),
        "signed" => Ok(Some(Ranking::Signed)),
        "0" => Ok(None),
        _ => Err(ParamError::Faith),
    }
}

fn read_model(v: &str) -> Result<ModelChoice, ParamError> {
    match v {
        "bundled" => Ok(ModelChoice::Bundled),
        u if u.contains("://") => ModelUrl::parse(u)
            .map(ModelChoice::Url)
            .map_err(ParamError::Url),
        _ => Preset::from_key(v)
            .map(ModelChoice::Preset)
            .ok_or(ParamError::Model),
    }
}

fn read_view(s: &mut PageState, key: &str, v: &str) -> Option<Result<(), ParamError>> {
    let view = &mut s.view;
    Some(match key {
        "pair" => v.parse().map(|x| view.pair = x).map_err(ParamError::Name),
        "tab" => Tab::ALL
            .iter()
            .find(|t| t.key() == v)
            .map(|t| view.tab = *t)
            .ok_or(ParamError::Tab),
        "prompt" => match v {
            "mean" => {
                view.prompt = None;
                Ok(())
            }
            _ => number(v, 0, MAX_PROMPTS - 1, "a prompt index").map(|i| view.prompt = Some(i)),
        },
        "sel" => Component::parse(v)
            .map(|x| view.selection = Some(x))
            .ok_or(ParamError::Selection),
        "gm" => match Method::from_key(v).filter(|m| m.output() == MethodOutput::Edges) {
            Some(m) => {
                view.graph.method = Some(m);
                Ok(())
            }
            None => Err(ParamError::GraphMethod),
        },
        "gk" => {
            number(v, 1, GraphView::MAX_EDGES, "a number of edges").map(|k| view.graph.edges = k)
        }
        _ => return None,
    })
}

pub fn parse(query: &str) -> (PageState, Vec<Warning>) {
    let mut s = PageState::default();
    let mut warnings = Vec::new();
    let mut task = TaskParts::new();
    for part in query.trim_start_matches('?').split('&') {
        if part.is_empty() {
            continue;
        }
        let (raw_key, raw_value) = part.split_once('=').unwrap_or((part, ""));
        let key = decode_component(raw_key).unwrap_or_else(|| raw_key.to_string());
        let Some(v) = decode_component(raw_value) else {
            warnings.push(Warning::new(&key, ParamError::NotUtf8));
            continue;
        };
        let result = match task.read(&key, &v, &mut warnings) {
            Some(r) => r,
            None => read_state(&mut s, &key, &v).unwrap_or(Err(ParamError::Unknown)),
        };
        if let Err(problem) = result {
            warnings.push(Warning::new(&key, problem));
        }
    }
    s.prompts = task.finish(&mut warnings);
    (s, warnings)
}

pub fn write(s: &PageState) -> String {
    let d = PageState::default();
    let mut kv: Vec<(&str, String)> = Vec::new();
    if let Some(r) = &s.results {
        kv.push(("results", r.to_string()));
    }
    match &s.model {
        ModelChoice::Preset(p) if *p == Preset::Gpt2Small => {}
        ModelChoice::Preset(p) => kv.push(("model", p.key().into())),
        ModelChoice::Bundled => kv.push(("model", "bundled".into())),
        ModelChoice::Url(u) => kv.push(("model", u.to_string())),
    }
    if s.processing != d.processing {
        kv.push(("processing", "0".into()));
    }
    if s.backend != Backend::Auto {
        kv.push(("backend", s.backend.key().into()));
    }
    write_prompts(&s.prompts, &mut kv);
    write_options(&s.options, &mut kv);
    match &s.circuit {
        CircuitChoice::Auto => {}
        CircuitChoice::Off => kv.push(("circuit", "none".into())),
        CircuitChoice::Bundled => kv.push(("circuit", BUNDLED_CIRCUIT.into())),
        CircuitChoice::Link(l) => kv.push(("circuit", l.to_string())),
    }
    write_view(s, &mut kv);
    kv.iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn write_prompts(prompts: &Prompts, kv: &mut Vec<(&'static str, String)>) {
    match prompts {
        Prompts::Ioi { n, seed, corrupt } => {
            kv.push(("n", n.to_string()));
            kv.push(("seed", seed.to_string()));
            if *corrupt != Corruption::Aba {
                kv.push(("corrupt", corrupt.key().into()));
            }
        }
        Prompts::Custom(pairs) => {
            kv.push(("task", "custom".into()));
            kv.push(("pairs", pairs_text(pairs)));
        }
    }
}

/// The options that differ from the defaults; the methods' flags in the order of the first
/// links (`ig`, `ap`, then the later methods).
fn write_options(o: &gradpatch_terms::StudyOptions, kv: &mut Vec<(&'static str, String)>) {
    let d = gradpatch_terms::StudyOptions::default();
    let bool01 = |b: bool| if b { "1" } else { "0" }.to_string();
    for method in Method::in_file_order() {
        let on = o.methods.has(method);
        if method == Method::EapIg {
            // Its steps are its value (off: 0).
            if on {
                kv.push((method.key(), o.eapig_steps.to_string()));
            }
        } else if on != d.methods.has(method) {
            kv.push((method.key(), bool01(on)));
        }
    }
    if o.exact_edges != d.exact_edges {
        kv.push(("exact", o.exact_edges.to_string()));
    }
    if o.positions != d.positions {
        kv.push(("pos", bool01(o.positions)));
    }
    if o.ig_steps != d.ig_steps {
        kv.push(("steps", o.ig_steps.to_string()));
    }
    if o.ig_method != d.ig_method {
        kv.push(("quad", o.ig_method.key().into()));
    }
    if o.ig_baseline != d.ig_baseline {
        kv.push(("baseline", o.ig_baseline.key().into()));
    }
    if o.ap_direction != d.ap_direction {
        kv.push(("dir", o.ap_direction.key().into()));
    }
    if o.percentile != d.percentile {
        kv.push(("pct", o.percentile.to_string()));
    }
    match o.faithfulness {
        None => {}
        Some(Ranking::Abs) => kv.push(("faith", "1".into())),
        Some(Ranking::Signed) => kv.push(("faith", "signed".into())),
    }
}

fn write_view(s: &PageState, kv: &mut Vec<(&'static str, String)>) {
    kv.push(("tab", s.view.tab.key().into()));
    if s.view.pair != MethodPair::default() {
        kv.push(("pair", s.view.pair.key()));
    }
    if let Some(p) = s.view.prompt {
        kv.push(("prompt", p.to_string()));
    }
    if let Some(sel) = s.view.selection {
        kv.push(("sel", sel.to_string()));
    }
    if !s.view.outlines {
        kv.push(("outline", "0".into()));
    }
    let graph = GraphView::default();
    if let Some(m) = s.view.graph.method {
        kv.push(("gm", m.key().into()));
    }
    if s.view.graph.edges != graph.edges {
        kv.push(("gk", s.view.graph.edges.to_string()));
    }
}
