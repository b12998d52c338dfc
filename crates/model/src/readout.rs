//! The end of a run: the final LayerNorm and the unembedding, computed only where the readout
//! needs them (every position, one position per row, or two logits per row).

use burn::tensor::{Int, Tensor, TensorData};

use crate::error::RunError;
use crate::hook_ctx::HookCtx;
use crate::hooks::HookPoint;
use crate::model::{Gpt2, Readout, RunOutput};

impl Gpt2 {
    /// # Shapes
    /// `[batch, pos, d_model]` → the readout's output (see [`Readout`])
    pub(crate) fn read_out(
        &self,
        ctx: &mut HookCtx<'_>,
        resid: Tensor<3>,
        readout: Readout,
    ) -> Result<RunOutput, RunError> {
        let c = &self.config;
        let mut out = RunOutput::default();
        let hooked = ctx.hooks.touches(HookPoint::LnFinalNormalized);
        let [b, s, d] = resid.dims();
        match readout {
            Readout::Nothing | Readout::StopAfter(_) => {
                if hooked {
                    self.final_norm(ctx, resid)?;
                }
            }
            Readout::AllLogits => {
                let x = self.final_norm(ctx, resid)?;
                let logits = self.unembed.matmul_transposed(x.reshape([b * s, d]))
                    + self.b_u.clone().unsqueeze::<2>();
                out.logits = Some(logits.reshape([b, s, c.d_vocab]));
            }
            Readout::LogitsAt { ref positions } | Readout::LogitDiff { ref positions, .. } => {
                if positions.len() != b || positions.iter().any(|&p| p >= s) {
                    return Err(RunError::invalid(
                        "readout positions",
                        format!("{positions:?} for a batch of {b} rows of {s} positions"),
                    ));
                }
                let idx: Vec<i64> = positions
                    .iter()
                    .flat_map(|&p| std::iter::repeat_n(p as i64, d))
                    .collect();
                let idx =
                    Tensor::<3, Int>::from_data(TensorData::new(idx, [b, 1, d]), &self.device);
                // The final LayerNorm is per position: normalise only the read positions unless
                // its hook wants every position.
                let x = if hooked {
                    self.final_norm(ctx, resid)?.gather(1, idx)
                } else {
                    self.ln_final.forward(resid.gather(1, idx))
                };
                let x = x.reshape([b, d]);
                match readout {
                    Readout::LogitDiff {
                        correct, incorrect, ..
                    } => {
                        out.logit_diff = Some(self.logit_diff(x, &correct, &incorrect)?);
                    }
                    _ => {
                        out.logits_at = Some(
                            self.unembed.matmul_transposed(x) + self.b_u.clone().unsqueeze::<2>(),
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// `ln_final` with its hook.
    fn final_norm(&self, ctx: &mut HookCtx<'_>, x: Tensor<3>) -> Result<Tensor<3>, RunError> {
        ctx.at(HookPoint::LnFinalNormalized, self.ln_final.forward(x))
    }

    /// logit(correct) − logit(incorrect) per row, from two unembedding rows each.
    ///
    /// # Shapes
    /// `[batch, d_model]` (normalised) → `[batch]`
    fn logit_diff(
        &self,
        x: Tensor<2>,
        correct: &[u32],
        incorrect: &[u32],
    ) -> Result<Tensor<1>, RunError> {
        let b = x.dims()[0];
        if correct.len() != b || incorrect.len() != b {
            return Err(RunError::invalid(
                "labels",
                format!(
                    "{} correct and {} incorrect ids for {b} rows",
                    correct.len(),
                    incorrect.len()
                ),
            ));
        }
        let logit = |ids: &[u32]| -> Result<Tensor<1>, RunError> {
            if let Some(&id) = ids.iter().find(|&&i| i as usize >= self.config.d_vocab) {
                return Err(RunError::invalid(
                    "label",
                    format!(
                        "token id {id} outside the vocabulary of {}",
                        self.config.d_vocab
                    ),
                ));
            }
            let idx = Tensor::<1, Int>::from_data(
                TensorData::new(ids.iter().map(|&i| i64::from(i)).collect::<Vec<_>>(), [b]),
                &self.device,
            );
            let rows = self.unembed.rows(ids);
            let bias = self.b_u.clone().select(0, idx);
            Ok((x.clone() * rows).sum_dim(1).reshape([b]) + bias)
        };
        Ok(logit(correct)? - logit(incorrect)?)
    }
}
