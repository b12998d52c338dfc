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
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $key)] $variant,)+
        }

        impl $name {
            /// Every value, in the order the page lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

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
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.key() == s).ok_or_else(|| {
                    format!(
                        "unknown {} \"{s}\", expected {}",
                        $what,
                        $crate::alternatives(Self::ALL.iter().map(|v| v.key()))
                    )
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
mod options;
mod pair;
mod quadrature;

pub use component::Component;
pub use options::{
    Backend, Baseline, Corruption, Direction, Method, MethodPair, MethodSet, Processing, Stage,
};
pub use pair::PromptPair;
pub use quadrature::{Quadrature, leggauss};

/// `a, b or c`.
fn alternatives<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_unknown_names_say_what_was_expected() {
        for q in Quadrature::ALL {
            assert_eq!(q.key().parse::<Quadrature>(), Ok(*q), "{q}");
        }
        assert_eq!(
            "simpson".parse::<Quadrature>(),
            Err(
                "unknown IG method \"simpson\", expected gausslegendre, riemann_left, \
                 riemann_right, riemann_middle or riemann_trapezoid"
                    .to_string()
            )
        );
        assert_eq!(
            "xyz".parse::<Corruption>(),
            Err("unknown corruption \"xyz\", expected aba or abc".to_string())
        );
        assert_eq!("cpu".parse::<Backend>(), Ok(Backend::Cpu));
        assert_eq!("denoising".parse::<Direction>(), Ok(Direction::Denoising));
        assert_eq!("corrupted".parse::<Baseline>(), Ok(Baseline::Corrupted));
    }

    #[test]
    fn method_sets_parse_and_pair_up() {
        let set: MethodSet = "ap, atp".parse().unwrap_or(MethodSet::NONE);
        assert_eq!(
            set,
            MethodSet {
                ig: false,
                ap: true,
                atp: true
            }
        );
        assert_eq!(set.keys(), "atp,ap");
        assert_eq!(set.pairs().collect::<Vec<_>>(), [MethodPair::AtpAp]);
        assert_eq!(MethodSet::ALL.pairs().count(), 3);
        assert_eq!(
            "ig,xx".parse::<MethodSet>(),
            Err("unknown method \"xx\", expected atp, ig or ap \
                 (in a comma-separated list such as ig,ap,atp)"
                .to_string())
        );
        assert!(
            "".parse::<MethodSet>().is_err(),
            "an empty list must be refused"
        );
        // Messages written before AtP existed have no `atp` field.
        let old: Result<MethodSet, _> = serde_json::from_str(r#"{"ig":true,"ap":false}"#);
        assert_eq!(
            old.ok(),
            Some(MethodSet {
                ig: true,
                ap: false,
                atp: false
            })
        );
        assert_eq!(MethodPair::AtpAp.label(), "AtP–AP");
        assert_eq!(MethodPair::IgAtp.field(), "ig_atp");
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
        assert_eq!(json(Stage::Ig), "\"ig\"");
    }
}
