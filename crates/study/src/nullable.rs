//! Reading scores written as `null`: `results.json` writes a number that could not be computed
//! (a cancelled run's gaps, a zero AP denominator) as `null` (serde_json's way with NaN), and
//! reads it back as NaN, at any depth of nesting.

use serde::{Deserialize, Deserializer};

/// A value that may hold scores written as `null`.
pub trait Nullable: Sized {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

impl Nullable for f32 {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<f32>::deserialize(d)?.unwrap_or(f32::NAN))
    }
}

/// Deserializes `T` through [`Nullable`].
pub(crate) struct Read<T>(pub(crate) T);

impl<'de, T: Nullable> Deserialize<'de> for Read<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::read(d).map(Read)
    }
}

impl<T: Nullable> Nullable for Vec<T> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Read<T>>::deserialize(d)?
            .into_iter()
            .map(|r| r.0)
            .collect())
    }
}

/// An optional field: `null` or absent is `None`.
impl<T: Nullable> Nullable for Option<T> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<Read<T>>::deserialize(d)?.map(|r| r.0))
    }
}

/// For `#[serde(deserialize_with = "nullable::read")]`.
pub fn read<'de, D: Deserializer<'de>, T: Nullable>(d: D) -> Result<T, D::Error> {
    T::read(d)
}

#[cfg(test)]
mod tests {
    use gradpatch_terms::Method;

    use crate::Results;

    /// A results.json with `null` scores (what a cancelled run writes) reads back, the
    /// gaps as NaN, and writes the same bytes again.
    #[test]
    fn null_scores_read_back_as_nan() {
        let text = r#"{"config":{"model":"m","processing":{"fold_ln":true,"center_writing_weights":true,"center_unembed":true,"fold_value_biases":true},"run_ig":true,"run_ap":true,"ig_steps":4,"ig_method":"gausslegendre","ig_baseline":"zero","ap_direction":"noising","percentile":0.9,"prompts_source":null,"backend":"ndarray"},"prompts":[],"clean_logit_diff":[1.5],"corrupted_logit_diff":[null],"ig":{"heads":[[[0.5,null]]],"neurons":[[[null]]],"convergence_delta_heads":[[null]],"convergence_delta_neurons":[[0.0]],"heads_pos":[[[[null,0.25]]]]},"ap":null,"atp":{"heads":[[[1.0,null]]],"neurons":[[[2.0]]]},"stats":null,"complete":false,"seconds":{}}"#;
        let r: Results = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        let ig = r.scores(Method::Ig).unwrap_or_else(|| panic!("ig"));
        assert_eq!(ig.heads[0][0][0], 0.5);
        assert!(ig.heads[0][0][1].is_nan() && ig.neurons[0][0][0].is_nan());
        assert!(r.corrupted_logit_diff[0].is_nan());
        assert!(
            ig.convergence_delta_heads
                .as_ref()
                .is_some_and(|d| d[0][0].is_nan())
        );
        let pos = ig.heads_pos.as_ref().unwrap_or_else(|| panic!("heads_pos"));
        assert!(pos[0][0][0][0].is_nan() && pos[0][0][0][1] == 0.25);
        assert!(
            r.scores(Method::Atp)
                .is_some_and(|a| a.heads[0][0][1].is_nan() && a.heads_pos.is_none())
        );
        assert_eq!(serde_json::to_string(&r).ok().as_deref(), Some(text));
    }
}
