//! IOI pools split for training a model and judging it on what it never saw: the training
//! split is the standard pools ([`crate::ioi::TEMPLATES`], [`crate::ioi::NAMES`]) plus more
//! templates and names; the held-out and hand-written splits have their own templates and the
//! held-out names, disjoint from the training ones (places and objects are shared). The standard
//! generator is unchanged.
//!
//! Held-out templates use only words that training text contains, in arrangements no training
//! template has. Hand-written templates were written to differ in structure from every training
//! template (a test measures it), as IOI prompts written outside the project do; they may use
//! words the training text lacks.

use crate::ioi::{IoiPools, NAMES, OBJECTS, PLACES, TEMPLATES};

/// Templates added to the standard six for training.
pub const TRAIN_EXTRA_TEMPLATES: [&str; 8] = [
    "When{A} and{B} arrived at the{PLACE},{S2} passed a{OBJECT} to",
    "Later,{A} and{B} walked to the{PLACE}, and{S2} offered a{OBJECT} to",
    "Once{A} and{B} reached the{PLACE},{S2} showed the{OBJECT} to",
    "As{A} and{B} were leaving the{PLACE},{S2} threw a{OBJECT} to",
    "Yesterday{A} and{B} visited the{PLACE}.{S2} brought a{OBJECT} to",
    "Before{A} and{B} left the{PLACE},{S2} sold a{OBJECT} to",
    "In the{PLACE},{A} and{B} found a{OBJECT}.{S2} gave it to",
    "The{PLACE} was quiet when{A} and{B} came in, so{S2} handed a{OBJECT} to",
];

/// Templates never used for training.
pub const HELDOUT_TEMPLATES: [&str; 4] = [
    "While{A} and{B} were sitting in the{PLACE},{S2} handed the{OBJECT} to",
    "After{A} and{B} arrived at the{PLACE},{S2} decided to give the{OBJECT} to",
    "Then{A} and{B} walked to the{PLACE}, where{S2} passed a{OBJECT} to",
    "When{A} and{B} met at the{PLACE} with a{OBJECT},{S2} gave it to",
];

/// Templates written by hand, each unlike every training template in how it introduces the
/// names, links them to S2 or ends: IOI prompts "from outside".
pub const HANDWRITTEN_TEMPLATES: [&str; 16] = [
    "{A} was in the{PLACE} when{B} came in, and a little later{S2} gave the{OBJECT} to",
    "The{OBJECT} was on the table.{A} and{B} looked at it for a long time, and in the end{S2} gave it to",
    "In the morning{A} asked{B} to come to the{PLACE}. In the evening{S2} wrote a letter to",
    "Because{A} and{B} were late for work at the{PLACE},{S2} sent a message to",
    "{A} and{B} sat in the{PLACE} for hours. In the end{S2} said goodbye to",
    "Outside the{PLACE},{A} waited for{B}. When they met,{S2} handed the{OBJECT} to",
    "It was a long day for{A} and{B}, and because the{PLACE} was closed{S2} bought a{OBJECT} for",
    "Both{A} and{B} liked the{PLACE}, but only{S2} brought a{OBJECT} to",
    "{A} and{B} talked about the{OBJECT} all day. At the{PLACE},{S2} finally gave it to",
    "After school,{A} and{B} went home together. Later that night{S2} called",
    "{A} and{B} were both at the{PLACE}, and everyone was happy.{S2} kept talking to",
    "The{PLACE} was empty except for{A} and{B}.{S2} gave a{OBJECT} to",
    "{A} told{B} a story at the{PLACE}, and when it was over{S2} gave a{OBJECT} to",
    "When the{PLACE} closed,{A} and{B} went outside, where{S2} gave the{OBJECT} to",
    "{A} and{B} had known each other for years. One day at the{PLACE},{S2} gave a{OBJECT} to",
    "Near the{PLACE} there were{A} and{B}. Suddenly{S2} threw the{OBJECT} to",
];

/// Names added to the standard sixteen for training.
pub const TRAIN_EXTRA_NAMES: [&str; 148] = [
    " David",
    " Emma",
    " Jack",
    " Laura",
    " Peter",
    " Rose",
    " Adam",
    " Ben",
    " Claire",
    " Chris",
    " Daniel",
    " Ella",
    " Frank",
    " George",
    " Grace",
    " Hannah",
    " Henry",
    " Helen",
    " Ian",
    " Jane",
    " Jason",
    " Julia",
    " Kevin",
    " Leo",
    " Lucy",
    " Max",
    " Nancy",
    " Nick",
    " Oliver",
    " Olivia",
    " Ryan",
    " Ruth",
    " Sam",
    " Simon",
    " Sophie",
    " Steve",
    " Susan",
    " Victor",
    " Wendy",
    " Zoe",
    " Carl",
    " Diana",
    " Eric",
    " Fiona",
    " Greg",
    " Irene",
    " Karen",
    " Tony",
    " Aaron",
    " Abby",
    " Alan",
    " Albert",
    " Andrew",
    " Angela",
    " Arthur",
    " Barbara",
    " Betty",
    " Bill",
    " Brian",
    " Bruce",
    " Carol",
    " Caroline",
    " Charles",
    " Charlie",
    " Cindy",
    " Craig",
    " Dennis",
    " Donald",
    " Doris",
    " Dorothy",
    " Douglas",
    " Edith",
    " Elena",
    " Eleanor",
    " Elliot",
    " Emily",
    " Ethan",
    " Evan",
    " Gary",
    " Gavin",
    " Gloria",
    " Gordon",
    " Harold",
    " Harry",
    " Heidi",
    " Howard",
    " Isaac",
    " Ivan",
    " Jake",
    " Janet",
    " Jeff",
    " Jenny",
    " Jessica",
    " Joan",
    " Joe",
    " Joel",
    " Joyce",
    " Judy",
    " Justin",
    " Keith",
    " Larry",
    " Leon",
    " Linda",
    " Lily",
    " Louis",
    " Lucas",
    " Marcus",
    " Martha",
    " Megan",
    " Melissa",
    " Monica",
    " Nathan",
    " Neil",
    " Nina",
    " Noah",
    " Norman",
    " Owen",
    " Patrick",
    " Peggy",
    " Philip",
    " Phoebe",
    " Ralph",
    " Ray",
    " Rebecca",
    " Robert",
    " Roger",
    " Ron",
    " Ross",
    " Roy",
    " Russell",
    " Sally",
    " Sandra",
    " Scott",
    " Sean",
    " Sharon",
    " Sophia",
    " Stella",
    " Stuart",
    " Ted",
    " Teresa",
    " Thomas",
    " Tim",
    " Victoria",
    " Vincent",
    " Wayne",
    " William",
    " Yvonne",
    " Zach",
];

/// Names never used in a training IOI prompt.
pub const HELDOUT_NAMES: [&str; 20] = [
    " Alex", " Beth", " Colin", " Dora", " Edward", " Felix", " Gina", " Hugo", " Iris", " Jacob",
    " Kim", " Luke", " Maria", " Nora", " Oscar", " Paula", " Quinn", " Rachel", " Tina",
    " Walter",
];

/// Which pools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// What [`crate::generate_ioi`] draws from (and the page's IOI prompts).
    Standard,
    /// Standard plus [`TRAIN_EXTRA_TEMPLATES`] and [`TRAIN_EXTRA_NAMES`].
    Train,
    /// [`HELDOUT_TEMPLATES`] and [`HELDOUT_NAMES`] with the standard places and objects.
    HeldOut,
    /// [`HANDWRITTEN_TEMPLATES`] and [`HELDOUT_NAMES`] with the standard places and objects.
    HandWritten,
}

impl Split {
    pub fn pools(self) -> IoiPools {
        let (templates, names): (Vec<&'static str>, Vec<&'static str>) = match self {
            Split::Standard => (TEMPLATES.to_vec(), NAMES.to_vec()),
            Split::Train => (
                TEMPLATES
                    .iter()
                    .chain(&TRAIN_EXTRA_TEMPLATES)
                    .copied()
                    .collect(),
                NAMES.iter().chain(&TRAIN_EXTRA_NAMES).copied().collect(),
            ),
            Split::HeldOut => (HELDOUT_TEMPLATES.to_vec(), HELDOUT_NAMES.to_vec()),
            Split::HandWritten => (HANDWRITTEN_TEMPLATES.to_vec(), HELDOUT_NAMES.to_vec()),
        };
        IoiPools {
            templates,
            names,
            places: PLACES.to_vec(),
            objects: OBJECTS.to_vec(),
        }
    }
}

/// Every name of every split (what a tokenizer trained for IOI must hold as single tokens).
pub fn all_names() -> Vec<&'static str> {
    NAMES
        .iter()
        .chain(&TRAIN_EXTRA_NAMES)
        .chain(&HELDOUT_NAMES)
        .copied()
        .collect()
}
