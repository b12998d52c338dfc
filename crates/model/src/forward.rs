//! The forward pass: enter the model (tokens or a hook point mid-model), run the blocks, read
//! out; hooks apply at every TransformerLens hook point on the way.

use crate::error::RunError;
use crate::hook_ctx::HookCtx;
use crate::hooks::HookPoint;
use crate::layers::Entry;
use crate::model::{Gpt2, Readout, Run, RunOutput, Source};

impl Gpt2 {
    /// Runs the model: from `run.source` through the remaining blocks to `run.readout`.
    ///
    /// # Shapes
    /// tokens `[batch, pos]` (or a hook's activation, see [`Source`]) → the readout's output,
    /// see [`Readout`], and the cached hooks, see [`crate::HookPoint`]
    pub fn run(&self, run: Run<'_>) -> Result<RunOutput, RunError> {
        let mut ctx = HookCtx::new(run.hooks);
        let offset = run.prefix.map_or(0, |p| p.len);
        let (start, mut entry) = self.enter(&mut ctx, run.source, offset)?;
        let query = self.last_block_query(&ctx, &run.readout, start, &entry)?;
        let last = self.config.n_layers - 1;
        let end = match run.readout {
            Readout::StopAfter(layer) if layer < start || layer > last => {
                return Err(RunError::invalid(
                    "readout",
                    format!("stop after layer {layer}, for a run of layers {start} to {last}"),
                ));
            }
            Readout::StopAfter(layer) => layer + 1,
            _ => self.blocks.len(),
        };
        for block in &self.blocks[start..end] {
            let query = if block.layer == last { query } else { None };
            entry = Entry::ResidPre(block.forward(&mut ctx, entry, run.prefix, query)?);
        }
        let Entry::ResidPre(resid) = entry else {
            return Err(RunError::invalid("run", "ended inside a block"));
        };
        if let Readout::StopAfter(_) = run.readout {
            return Ok(RunOutput {
                cache: ctx.cache,
                ..RunOutput::default()
            });
        }
        // The last block kept only the read position: it is position 0 of what is left.
        let readout = match query {
            Some(_) => run.readout.at_first_position(),
            None => run.readout,
        };
        let mut out = self.read_out(&mut ctx, resid, readout)?;
        out.cache = ctx.cache;
        Ok(out)
    }

    /// The first block to run and how it is entered, after checking the source against the
    /// model (the embeddings and their hooks run here for tokens).
    fn enter(
        &self,
        ctx: &mut HookCtx<'_>,
        source: Source,
        offset: usize,
    ) -> Result<(usize, Entry), RunError> {
        let c = &self.config;
        Ok(match source {
            Source::Tokens(batch) => {
                let (b, s) = (batch.lens.len(), batch.width);
                if offset + s > c.n_ctx {
                    return Err(RunError::TooLong {
                        row: 0,
                        len: s,
                        offset,
                        n_ctx: c.n_ctx,
                    });
                }
                let embed = self.w_e.rows(&batch.ids).reshape([b, s, c.d_model]);
                let embed = ctx.at(HookPoint::Embed, embed)?;
                let pos = self
                    .w_pos
                    .clone()
                    .narrow(0, offset, s)
                    .unsqueeze::<3>()
                    .expand([b, s, c.d_model]);
                let pos = ctx.at(HookPoint::PosEmbed, pos)?;
                (0, Entry::ResidPre(embed + pos))
            }
            Source::ResidPre { layer, resid } => {
                // layer == n_layers: the final residual stream, straight to the readout.
                if layer != c.n_layers {
                    self.block(layer)?;
                }
                self.check_last(&resid.dims(), c.d_model, "resid_pre")?;
                (layer, Entry::ResidPre(resid))
            }
            Source::AttnResult {
                layer,
                resid_pre,
                result,
            } => {
                self.block(layer)?;
                self.check_last(&resid_pre.dims(), c.d_model, "resid_pre")?;
                let rd = result.dims();
                let rp = resid_pre.dims();
                let heads_ok = rd[2] == c.n_heads || rd[2] == 1;
                if rd[..2] != rp[..2] || !heads_ok || rd[3] != c.d_model {
                    return Err(RunError::invalid(
                        "hook_result",
                        format!(
                            "shape {rd:?}, expected [{}, {}, {} (or 1: the heads' sum), {}]",
                            rp[0], rp[1], c.n_heads, c.d_model
                        ),
                    ));
                }
                (layer, Entry::AttnResult(resid_pre, result))
            }
            Source::MlpPost {
                layer,
                resid_mid,
                post,
            } => {
                self.block(layer)?;
                self.check_last(&resid_mid.dims(), c.d_model, "resid_mid")?;
                self.check_last(&post.dims(), c.d_mlp, "hook_post")?;
                (layer, Entry::MlpPost(resid_mid, post))
            }
        })
    }

    /// "Compute only what the metric needs": when every row is read at the same position and
    /// no hook looks inside the last block past its keys and values, that block runs its
    /// queries, MLP and residual stream at that position only. The position, if so.
    fn last_block_query(
        &self,
        ctx: &HookCtx<'_>,
        readout: &Readout,
        start: usize,
        entry: &Entry,
    ) -> Result<Option<usize>, RunError> {
        let shared_position = match readout {
            Readout::LogitsAt { positions } | Readout::LogitDiff { positions, .. } => positions
                .first()
                .copied()
                .filter(|p0| positions.iter().all(|p| p == p0)),
            _ => None,
        };
        let last = self.config.n_layers - 1;
        let last_block_hooked = ctx.hooks.points().any(|point| {
            let inside = point.layer() == Some(last)
                && !matches!(
                    point,
                    HookPoint::ResidPre(_)
                        | HookPoint::Ln1Normalized(_)
                        | HookPoint::AttnK(_)
                        | HookPoint::AttnV(_)
                );
            inside || point == HookPoint::LnFinalNormalized
        });
        let query = shared_position.filter(|_| !last_block_hooked && start <= last);
        if let Some(pos) = query
            && pos >= entry.len()
        {
            return Err(RunError::invalid(
                "readout positions",
                format!("position {pos} for rows of {} positions", entry.len()),
            ));
        }
        Ok(query)
    }
}

impl Readout {
    /// The same readout at position 0 of every row.
    fn at_first_position(self) -> Self {
        match self {
            Readout::LogitsAt { positions } => Readout::LogitsAt {
                positions: vec![0; positions.len()],
            },
            Readout::LogitDiff {
                positions,
                correct,
                incorrect,
            } => Readout::LogitDiff {
                positions: vec![0; positions.len()],
                correct,
                incorrect,
            },
            readout => readout,
        }
    }
}
