//! The shared vocabulary of gradpatch as types: what a comparison runs (quadrature rule, IG
//! baseline, AP direction, corruption, method set, weight processing), where it runs (backend
//! choice), on what (a prompt pair as text), what it scores (a component) and where it is
//! (stage). Every layer, from the permalink to `results.json` and the page↔worker messages,
//! uses these types; each one's serde name is the name links, files and the CLI use, so a
//! name is written in one place only. Free of any tensor library (serde only), so the page's
//! UI links it without the engine.

/// A fieldless enum whose variants have one name each in links, `results.json`, the CLI and
/// the page's selects: serde, `key`, `ALL`, `Display` and `FromStr` (with a message naming
/// what was expected) from one table.
macro_rules! keyed_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $key:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $key)] $variant,)+
        }

        impl $name {
            /// Every value, in the order the page lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// How many values there are.
            pub const COUNT: usize = Self::ALL.len();

            /// The name links, `results.json` and the CLI use.
            pub fn key(self) -> &'static str {
                match self {
                    $($name::$variant => $key,)+
                }
            }
        }

        impl $crate::Keyed for $name {
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn key(self) -> &'static str {
                $name::key(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.key())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownName;
            fn from_str(s: &str) -> Result<Self, $crate::UnknownName> {
                Self::ALL.iter().copied().find(|v| v.key() == s).ok_or_else(|| {
                    $crate::UnknownName::new($what, s, Self::ALL.iter().map(|v| v.key()))
                })
            }
        }
    };
}

/// An option with one name per value (the enums of this crate): lets the page build one
/// `<select>` for any of them.
pub trait Keyed: Copy + PartialEq + Send + Sync + 'static {
    fn all() -> &'static [Self];
    fn key(self) -> &'static str;

    /// The value named `key`, if any.
    fn from_key(key: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.key() == key)
    }
}

mod component;
mod duration;
mod edges;
mod method;
mod options;
mod pair;
mod quadrature;
mod study;

pub use component::{Component, ComponentKind};
pub use duration::{duration_text, seconds_left};
pub use edges::{Downstream, Edge, EdgeGraph, QkvInput, Upstream};
pub use method::{Method, MethodListError, MethodOutput, MethodPair, MethodSet};
pub use options::{Backend, Baseline, Corruption, Direction, Processing};
pub use pair::PromptPair;
pub use quadrature::{Quadrature, TooFewSteps, leggauss};
pub use study::{
    EDGE_RANDOM_RANKINGS, OptionError, Prompts, RANDOM_RANKINGS, Ranking, Stage, StudyOptions,
};

/// A name that is none of an option's values: says which option and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// The option, e.g. "IG method".
    pub what: &'static str,
    pub given: String,
    /// `a, b or c`.
    pub expected: String,
}

impl UnknownName {
    pub fn new<S: AsRef<str>>(
        what: &'static str,
        given: &str,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        let names: Vec<S> = names.into_iter().collect();
        Self {
            what,
            given: given.to_string(),
            expected: alternatives(names.iter().map(AsRef::as_ref), "or"),
        }
    }
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown {} \"{}\", expected {}",
            self.what, self.given, self.expected
        )
    }
}

impl std::error::Error for UnknownName {}

/// `a, b or c` (`and` for `a, b and c`).
fn alternatives<'a>(names: impl Iterator<Item = &'a str>, last_word: &str) -> String {
    let names: Vec<&str> = names.collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{} {last_word} {last}", rest.join(", "))
        }
        Some((last, _)) => (*last).to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<E: std::fmt::Display>(r: Result<impl std::fmt::Debug, E>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn names_parse_back_and_unknown_names_say_what_was_expected() {
        for q in Quadrature::ALL {
            assert_eq!(q.key().parse::<Quadrature>(), Ok(*q), "{q}");
        }
        assert_eq!(
            message("simpson".parse::<Quadrature>()),
            "unknown IG method \"simpson\", expected gausslegendre, riemann_left, \
             riemann_right, riemann_middle or riemann_trapezoid"
        );
        assert_eq!(
            message("xyz".parse::<Corruption>()),
            "unknown corruption \"xyz\", expected aba or abc"
        );
        assert_eq!("cpu".parse::<Backend>(), Ok(Backend::Cpu));
        assert_eq!("denoising".parse::<Direction>(), Ok(Direction::Denoising));
        assert_eq!("corrupted".parse::<Baseline>(), Ok(Baseline::Corrupted));
    }

    fn json(v: impl serde::Serialize) -> String {
        serde_json::to_string(&v).unwrap_or_default()
    }

    #[test]
    fn serde_names_are_the_link_names() {
        // results.json and the page↔worker messages spell each value as links do.
        assert_eq!(json(Quadrature::RiemannTrapezoid), "\"riemann_trapezoid\"");
        assert_eq!(json(Quadrature::GaussLegendre), "\"gausslegendre\"");
        assert_eq!(json(Baseline::Corrupted), "\"corrupted\"");
        assert_eq!(json(Direction::Noising), "\"noising\"");
        assert_eq!(json(Corruption::Abc), "\"abc\"");
        assert_eq!(json(Method::Ig), "\"ig\"");
    }
}
