//! The training split's procedural IOI templates: sometimes a sentence without names first, an
//! opening clause that introduces the two names (`{A}`, `{B}`), a link to the subject's second
//! mention (directly, through a conjunction, or after a sentence break and a filler sentence
//! without names), and the subject's action that ends right before the indirect object. Varied on purpose (clause
//! order, sentence splits, distance between the names and S2, verbs and final prepositions) so
//! that a model trained on it cannot lean on positions or one phrasing.
//!
//! [`sample`] draws one template with fixed weights per part; [`all`] lists every template the
//! grammar can make (for the tests that keep other splits apart from it).

use gradpatch_dataset::ioi::SplitMix;

/// Subordinate openings, followed by a comma link.
pub const SUBORDINATE: [&str; 10] = [
    "When{A} and{B} got to the{PLACE}",
    "After{A} and{B} left the{PLACE}",
    "While{A} and{B} were waiting at the{PLACE}",
    "Once{A} and{B} had lunch at the{PLACE}",
    "As soon as{A} met{B} at the{PLACE}",
    "When{A} ran into{B} near the{PLACE}",
    "After{A} visited{B} at the{PLACE}",
    "Since{A} and{B} were still at the{PLACE}",
    "Before{A} and{B} went into the{PLACE}",
    "As{A} walked with{B} past the{PLACE}",
];

/// Links after a subordinate opening.
pub const SUBORDINATE_LINKS: [&str; 4] = [
    ",{S2}",
    ", it was late, and{S2}",
    ", it was raining, so{S2}",
    ", nobody else was there, so{S2}",
];

/// Main-clause openings, followed by a conjunction or a sentence break.
pub const MAIN: [&str; 16] = [
    "{A} and{B} went to the{PLACE}",
    "{A} and{B} were at the{PLACE}",
    "{A} met{B} at the{PLACE}",
    "{A} was at the{PLACE} with{B}",
    "{A} went to the{PLACE} with{B}",
    "{A} and{B} spent the day at the{PLACE}",
    "{A} called{B} from the{PLACE}",
    "{A} walked with{B} to the{PLACE}",
    "At the{PLACE},{A} talked to{B}",
    "In the{PLACE},{A} sat next to{B}",
    "{A} and{B} had dinner at the{PLACE}",
    "Yesterday{A} and{B} came to the{PLACE}",
    "{A} found{B} at the{PLACE}",
    "{A} and{B} worked at the{PLACE}",
    "{A} saw{B} in the{PLACE}",
    "{A} and{B} stayed at the{PLACE}",
];

/// Links after a main clause within its sentence.
pub const CONJUNCTIONS: [&str; 4] = [", and{S2}", ", so{S2}", ", and then{S2}", ", and later{S2}"];

/// How the next sentence starts (after ". " and maybe a filler sentence).
pub const SENTENCE_STARTS: [&str; 6] = [
    "{S2}",
    " Then{S2}",
    " Later,{S2}",
    " After a while,{S2}",
    " Afterwards,{S2}",
    " Soon{S2}",
];

/// Sentences between the names and S2 that mention no name.
pub const FILLERS: [&str; 10] = [
    " It was a sunny day.",
    " The{PLACE} was very busy.",
    " They talked for a long time.",
    " It was getting late.",
    " Everyone was tired.",
    " The weather was nice.",
    " They were hungry.",
    " It started to rain.",
    " Nobody else was there.",
    " They had a good time.",
];

/// Sentences that may come before the names.
pub const PRELUDES: [&str; 5] = [
    "It was a sunny day.",
    "The{PLACE} was very busy.",
    "It was getting late.",
    "The weather was nice.",
    "Everyone was tired.",
];

/// What the subject does, ending right before the indirect object.
pub const ACTIONS: [&str; 30] = [
    "{S2} gave a{OBJECT} to",
    "{S2} gave the{OBJECT} to",
    "{S2} gave it to",
    "{S2} handed the{OBJECT} to",
    "{S2} passed a{OBJECT} to",
    "{S2} threw the{OBJECT} to",
    "{S2} sold a{OBJECT} to",
    "{S2} offered a{OBJECT} to",
    "{S2} showed the{OBJECT} to",
    "{S2} brought a{OBJECT} to",
    "{S2} sent a{OBJECT} to",
    "{S2} lent the{OBJECT} to",
    "{S2} returned the{OBJECT} to",
    "{S2} decided to give the{OBJECT} to",
    "{S2} wanted to give a{OBJECT} to",
    "{S2} said goodbye to",
    "{S2} said hello to",
    "{S2} waved at",
    "{S2} smiled at",
    "{S2} bought a{OBJECT} for",
    "{S2} made a{OBJECT} for",
    "{S2} talked to",
    "{S2} picked up the{OBJECT} and gave it to",
    "{S2} got a{OBJECT} for",
    "{S2} called",
    "{S2} thanked",
    "{S2} visited",
    "{S2} hugged",
    "{S2} waited for",
    "{S2} looked at",
];

/// Joins a link ending in `{S2}` with an action starting with it.
fn join(opening: &str, link: &str, action: &str) -> String {
    let link = link.strip_suffix("{S2}").unwrap_or(link);
    format!("{opening}{link}{action}")
}

/// `prelude` (if any) before `template`; placeholders carry their own leading space.
fn after(prelude: Option<&str>, template: String) -> String {
    match prelude {
        None => template,
        Some(p) if template.starts_with('{') => format!("{p}{template}"),
        Some(p) => format!("{p} {template}"),
    }
}

/// Every link after a main clause: conjunctions, sentence starts, and filler sentences
/// followed by the two plainest starts.
fn main_links() -> Vec<String> {
    let mut links: Vec<String> = CONJUNCTIONS.iter().map(|c| c.to_string()).collect();
    links.extend(SENTENCE_STARTS.iter().map(|s| format!(".{s}")));
    for filler in FILLERS {
        links.extend(SENTENCE_STARTS[..2].iter().map(|s| format!(".{filler}{s}")));
    }
    links
}

/// One template: a prelude in 20%; 30% subordinate openings; after a main clause 30%
/// conjunctions, 35% a new sentence, 35% a filler sentence first.
pub fn sample(rng: &mut SplitMix) -> String {
    let prelude = (rng.below(5) == 0).then(|| rng.pick(&PRELUDES));
    after(prelude, sample_body(rng))
}

fn sample_body(rng: &mut SplitMix) -> String {
    let action = rng.pick(&ACTIONS);
    if rng.below(10) < 3 {
        let opening = rng.pick(&SUBORDINATE);
        let link = if rng.below(10) < 6 {
            SUBORDINATE_LINKS[0]
        } else {
            rng.pick(&SUBORDINATE_LINKS[1..])
        };
        return join(opening, link, action);
    }
    let opening = rng.pick(&MAIN);
    let link = match rng.below(20) {
        0..6 => rng.pick(&CONJUNCTIONS).to_string(),
        6..13 => format!(".{}", rng.pick(&SENTENCE_STARTS)),
        _ => format!(".{}{}", rng.pick(&FILLERS), rng.pick(&SENTENCE_STARTS[..2])),
    };
    join(opening, &link, action)
}

/// Every template [`sample`] can return.
pub fn all() -> Vec<String> {
    let mut bodies = Vec::new();
    let links = main_links();
    for action in ACTIONS {
        for opening in SUBORDINATE {
            bodies.extend(SUBORDINATE_LINKS.iter().map(|l| join(opening, l, action)));
        }
        for opening in MAIN {
            bodies.extend(links.iter().map(|l| join(opening, l, action)));
        }
    }
    let mut out = bodies.clone();
    for prelude in PRELUDES {
        out.extend(bodies.iter().map(|b| after(Some(prelude), b.clone())));
    }
    out
}
