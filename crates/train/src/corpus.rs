//! The training text: IOI sentences from the training split (prompt followed by its answer),
//! short filler sentences about one or two people, and sentences without names.
//!
//! Filler sentences draw from every name, held-out ones included, and never have IOI's
//! structure (two people, one mentioned again, the other the answer): they teach the tokenizer
//! and the embeddings what a name is, so that a name held out of every training IOI prompt is
//! still a known token. The sentences without names carry everyday words (every word of the
//! held-out and hand-written templates among them) in other arrangements, so that a prompt
//! typed by a user is mostly known tokens.
//!
//! IOI sentences: a quarter from the written-out training templates, the rest from the
//! procedural grammar ([`crate::grammar`]); their names are the training split's
//! (with [`crate::splits::TRAIN_CENSUS_NAMES`], 564 in all).

use gradpatch_dataset::Corruption;
use gradpatch_dataset::ioi::{IoiPools, OBJECTS, PLACES, SplitMix, draw_pair, draw_pair_for};
use gradpatch_dataset::{DatasetError, Gpt2Tokenizer};

use crate::grammar;
use crate::splits::{Split, all_names, train_names, train_written_templates};

/// `{X}` and `{Y}` are two different names.
pub const FILLER_TEMPLATES: [&str; 16] = [
    "{X} went to the{PLACE}.",
    "{X} was sitting in the{PLACE} with a{OBJECT}.",
    "While{X} was at the{PLACE},{X} found a{OBJECT}.",
    "Then{X} walked to the{PLACE}, where{X} met{Y}.",
    "{X} and{Y} met at the{PLACE}.",
    "{X} decided to give the{OBJECT} away.",
    "After{X} arrived at the{PLACE}, the{OBJECT} was gone.",
    "{X} passed a{OBJECT} around the{PLACE}.",
    "The{OBJECT} belongs to{X}.",
    "{X} handed the{OBJECT} back, and{X} went home.",
    "{X} and{Y} were working at the{PLACE}.",
    "At the{PLACE},{X} gave it to{Y}.",
    "{X} and{Y} went to the{PLACE}, and later{X} and{Y} went home.",
    "{X} was happy, so{X} bought a{OBJECT}.",
    "Then{X} said that{X} had a{OBJECT}.",
    "{X} met{Y} at the{PLACE}, and they talked.",
];

/// Sentences without names that carry everyday words the IOI and filler patterns lack (those of
/// the hand-written templates among them, in other arrangements), so that a prompt typed by a
/// user is mostly known tokens. No names: the names' statistics stay those of the patterns above.
pub const WORD_SENTENCES: [&str; 30] = [
    "Because it was late, everyone went home.",
    "Both of them liked the{OBJECT}, and they were both happy.",
    "Near the{PLACE} there was an old{OBJECT}.",
    "One day it started to rain.",
    "Outside, it was getting dark.",
    "Suddenly it was quiet.",
    "They asked about the{OBJECT} all week.",
    "The{PLACE} was small but nice.",
    "The{PLACE} closed at night.",
    "Nobody wanted to come.",
    "They helped each other.",
    "The{PLACE} was empty.",
    "At the end of the week they were happy.",
    "In the evening they went home because they were tired.",
    "Everyone was there except the teacher.",
    "They finally went home.",
    "They waited for hours.",
    "They kept talking about the{PLACE}.",
    "They had known about it for years.",
    "The letter was on the table.",
    "It was a little late.",
    "The message was short.",
    "In the morning it was cold.",
    "They only had one{OBJECT}.",
    "The rain was over.",
    "After school they went outside.",
    "It was a long story.",
    "They told everyone about it.",
    "They went to work.",
    "They wrote a letter and sent it.",
];

/// Out of 16 sentences, how many are from [`WORD_SENTENCES`].
pub const WORDS_PER_16: usize = 1;

/// One training sentence.
#[derive(Clone, Debug, PartialEq)]
pub enum Example {
    /// An IOI prompt and its one-token answer (the indirect object).
    Ioi { prompt: String, answer: String },
    /// A filler sentence.
    Filler(String),
}

impl Example {
    /// The whole sentence (for the tokenizer's corpus).
    pub fn text(&self) -> String {
        match self {
            Example::Ioi { prompt, answer } => format!("{prompt}{answer}"),
            Example::Filler(text) => text.clone(),
        }
    }

    /// BOS-prefixed token ids, and whether the last token is an IOI answer.
    pub fn tokens(&self, tok: &Gpt2Tokenizer) -> Result<(Vec<u32>, bool), DatasetError> {
        match self {
            Example::Ioi { prompt, answer } => {
                let mut ids = tok.to_tokens(prompt)?;
                ids.push(tok.single_token(answer)?);
                Ok((ids, true))
            }
            Example::Filler(text) => Ok((tok.to_tokens(text)?, false)),
        }
    }
}

/// An endless, seeded stream of training sentences.
pub struct Sampler {
    rng: SplitMix,
    /// The written-out training templates and the training names.
    pools: IoiPools,
    all_names: Vec<&'static str>,
    held_out_names: Vec<&'static str>,
    /// Out of 16 sentences, how many are IOI.
    ioi_per_16: usize,
}

impl Sampler {
    pub fn new(seed: u64, ioi_per_16: usize) -> Self {
        Self {
            rng: SplitMix::new(seed),
            pools: IoiPools {
                templates: train_written_templates(),
                names: train_names(),
                places: PLACES.to_vec(),
                objects: OBJECTS.to_vec(),
            },
            all_names: all_names(),
            held_out_names: Split::HeldOut.pools().names,
            ioi_per_16: ioi_per_16.min(16),
        }
    }

    pub fn next_example(&mut self) -> Example {
        if self.rng.below(16) < self.ioi_per_16 {
            let (pools, names) = (&self.pools, &self.pools.names);
            let pair = if self.rng.below(4) == 0 {
                draw_pair(&mut self.rng, pools, names, Corruption::Aba)
            } else {
                let template = grammar::sample(&mut self.rng);
                draw_pair_for(&mut self.rng, &template, pools, names, Corruption::Aba)
            };
            Example::Ioi {
                prompt: pair.clean,
                answer: pair.correct,
            }
        } else if self.rng.below(16 - self.ioi_per_16) < WORDS_PER_16 {
            let place = self.rng.pick(&self.pools.places);
            let object = self.rng.pick(&self.pools.objects);
            Example::Filler(
                self.rng
                    .pick(&WORD_SENTENCES)
                    .replace("{PLACE}", place)
                    .replace("{OBJECT}", object),
            )
        } else {
            let template = self.rng.pick(&FILLER_TEMPLATES);
            // Half of the first names are held-out ones: they occur in no IOI sentence, so
            // their embeddings learn from these sentences only.
            let x = if self.rng.below(2) == 0 {
                self.rng.pick(&self.held_out_names)
            } else {
                self.rng.pick(&self.all_names)
            };
            let y = loop {
                let y = self.rng.pick(&self.all_names);
                if y != x {
                    break y;
                }
            };
            let place = self.rng.pick(&self.pools.places);
            let object = self.rng.pick(&self.pools.objects);
            Example::Filler(
                template
                    .replace("{X}", x)
                    .replace("{Y}", y)
                    .replace("{PLACE}", place)
                    .replace("{OBJECT}", object),
            )
        }
    }
}
