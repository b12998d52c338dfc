//! A seeded IOI prompt generator in the style of Wang et al. 2022: templates in both name orders
//! (ABBA, BABA) and several lengths, one-token names with a leading space, places and objects.
//!
//! Clean: "When Mary and John went to the store, John gave a drink to" (correct " Mary",
//! incorrect " John"). Corruptions replace the second subject mention (S2): `aba` by the
//! indirect object's name, `abc` by a third name. Only one-token names are used, so clean and
//! corrupted prompts have the same token length.

use gradpatch_terms::{Corruption, PromptPair};

use crate::{DatasetError, Gpt2Tokenizer, TokenizedPair};

/// `{A}` first name mentioned, `{B}` second, `{S2}` the subject's second mention.
pub const TEMPLATES: [&str; 6] = [
    "When{A} and{B} went to the{PLACE},{S2} gave a{OBJECT} to",
    "Then,{A} and{B} went to the{PLACE}.{S2} gave a{OBJECT} to",
    "After{A} and{B} went to the{PLACE},{S2} gave a{OBJECT} to",
    "When{A} and{B} got a{OBJECT} at the{PLACE},{S2} decided to give it to",
    "After{A} and{B} spent the whole afternoon at the{PLACE},{S2} handed a{OBJECT} to",
    "While{A} and{B} were working together at the{PLACE},{S2} decided to give a{OBJECT} to",
];

pub const NAMES: [&str; 16] = [
    " Mary", " John", " Tom", " James", " Dan", " Sid", " Martin", " Amy", " Alice", " Bob",
    " Kate", " Paul", " Anna", " Lisa", " Mark", " Sarah",
];
pub const PLACES: [&str; 8] = [
    " store",
    " garden",
    " restaurant",
    " school",
    " hospital",
    " office",
    " station",
    " park",
];
pub const OBJECTS: [&str; 8] = [
    " drink",
    " ring",
    " kiss",
    " bone",
    " basketball",
    " computer",
    " necklace",
    " snack",
];

/// SplitMix64: a tiny, portable, seeded generator (identical natively and in wasm).
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Fills a template. `first` and `second` are the names in order of mention.
pub fn fill(
    template: &str,
    first: &str,
    second: &str,
    s2: &str,
    place: &str,
    object: &str,
) -> String {
    template
        .replace("{A}", first)
        .replace("{B}", second)
        .replace("{S2}", s2)
        .replace("{PLACE}", place)
        .replace("{OBJECT}", object)
}

/// The word pools one IOI prompt is drawn from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoiPools {
    /// Owned: the demo model's training split generates its templates (`gradpatch-train`).
    pub templates: Vec<String>,
    pub names: Vec<&'static str>,
    pub places: Vec<&'static str>,
    pub objects: Vec<&'static str>,
}

impl IoiPools {
    /// [`TEMPLATES`], [`NAMES`], [`PLACES`], [`OBJECTS`]: what [`generate`] draws from.
    pub fn standard() -> Self {
        Self {
            templates: TEMPLATES.map(str::to_string).to_vec(),
            names: NAMES.to_vec(),
            places: PLACES.to_vec(),
            objects: OBJECTS.to_vec(),
        }
    }
}

/// Draws one pair (strings only) from `pools`; `names` has at least 3 entries. The order of the
/// draws is fixed: template, IO, S, third name, place, object, name order.
pub fn draw_pair(
    rng: &mut SplitMix,
    pools: &IoiPools,
    names: &[&str],
    corruption: Corruption,
) -> PromptPair {
    let template = &pools.templates[rng.below(pools.templates.len())];
    draw_pair_for(rng, template, pools, names, corruption)
}

/// [`draw_pair`] for a template chosen by the caller (the draws after the template's).
pub fn draw_pair_for(
    rng: &mut SplitMix,
    template: &str,
    pools: &IoiPools,
    names: &[&str],
    corruption: Corruption,
) -> PromptPair {
    let io = rng.pick(names);
    let s = loop {
        let s = rng.pick(names);
        if s != io {
            break s;
        }
    };
    let third = loop {
        let c = rng.pick(names);
        if c != io && c != s {
            break c;
        }
    };
    let place = rng.pick(&pools.places);
    let object = rng.pick(&pools.objects);
    // ABBA: the indirect object is mentioned first; BABA: the subject is.
    let (first, second) = if rng.below(2) == 0 { (io, s) } else { (s, io) };
    let corrupt_s2 = match corruption {
        Corruption::Aba => io,
        Corruption::Abc => third,
    };
    PromptPair {
        clean: fill(template, first, second, s, place, object),
        corrupted: fill(template, first, second, corrupt_s2, place, object),
        correct: io.to_string(),
        incorrect: s.to_string(),
    }
}

/// `n` IOI pairs for `seed`, tokenized and validated with `tok`. Names that are not one token
/// for this tokenizer are skipped (a small model's vocabulary may lack some).
pub fn generate(
    n: usize,
    seed: u64,
    corruption: Corruption,
    tok: &Gpt2Tokenizer,
    n_ctx: usize,
) -> Result<Vec<TokenizedPair>, DatasetError> {
    generate_from(&IoiPools::standard(), n, seed, corruption, tok, n_ctx)
}

/// [`generate`] from other pools (e.g. [`crate::ioi_split::Split::pools`]).
pub fn generate_from(
    pools: &IoiPools,
    n: usize,
    seed: u64,
    corruption: Corruption,
    tok: &Gpt2Tokenizer,
    n_ctx: usize,
) -> Result<Vec<TokenizedPair>, DatasetError> {
    let names: Vec<&str> = pools
        .names
        .iter()
        .copied()
        .filter(|name| tok.single_token(name).is_ok())
        .collect();
    if pools.templates.is_empty() || pools.places.is_empty() || pools.objects.is_empty() {
        return Err(DatasetError::EmptyPools);
    }
    if names.len() < 3 {
        return Err(DatasetError::TooFewNames { found: names.len() });
    }
    let mut rng = SplitMix::new(seed);
    (0..n)
        .map(|index| {
            TokenizedPair::new(&draw_pair(&mut rng, pools, &names, corruption), tok, n_ctx).map_err(
                |reason| DatasetError::Prompt {
                    index,
                    reason: Box::new(reason),
                },
            )
        })
        .collect()
}
