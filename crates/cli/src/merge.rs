//! `gradpatch merge`: the parts of a sharded run joined into the results.json that one
//! `gradpatch run` of the whole prompt list writes (the same scores, bit for bit; the statistics
//! computed again from them).

use std::path::{Path, PathBuf};

use clap::Args;
use gradpatch_study::{MethodScores, Results, pair_statistics, statistics};
use gradpatch_terms::{Method, MethodOutput};
use serde::Deserialize;

use crate::files::read_capped;
use crate::run::{check_writable, write_outputs};
use crate::shard::{Part, PartInfo};

#[derive(Args)]
pub struct MergeArgs {
    /// The part files (`gradpatch run --shard K/N --out PART`), in any order.
    #[arg(required = true)]
    parts: Vec<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    /// Also write scores.csv, prompts.csv and stats.csv (long format) into this directory.
    #[arg(long)]
    csv: Option<PathBuf>,
}

/// A file that should be a part: `shard` is optional here so that a whole run's results.json
/// is refused with a message saying so, from one parse of the (possibly large) file.
#[derive(Deserialize)]
struct MaybePart {
    #[serde(default)]
    shard: Option<PartInfo>,
    #[serde(flatten)]
    results: Results,
}

fn read_part(path: &Path) -> Result<Part, String> {
    let bytes = read_capped(path, gradpatch_study::MAX_RESULTS_BYTES, "part")?;
    let file: MaybePart = serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => format!("{}: {e}", path.display()),
        _ => format!("{}: not JSON ({e})", path.display()),
    })?;
    let shard = file.shard.ok_or_else(|| {
        format!(
            "{}: not a part of a sharded run (no `shard` field): expected the output of \
             `gradpatch run --shard K/N`",
            path.display()
        )
    })?;
    check_bounds(path, &shard)?;
    file.results
        .validate()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Part {
        shard,
        results: file.results,
    })
}

/// Most shards and prompts a part may claim (a file from elsewhere can claim anything; the
/// merge allocates by these).
const MAX_SHARDS: usize = 100_000;
const MAX_RUN_PROMPTS: usize = 10_000_000;

fn check_bounds(path: &Path, s: &PartInfo) -> Result<(), String> {
    let name = path.display();
    if !(1..=MAX_SHARDS).contains(&s.count) || s.index >= s.count {
        return Err(format!(
            "{name}: shard {}/{} is not a shard: expected K/N with 0 ≤ K < N ≤ {MAX_SHARDS}",
            s.index, s.count
        ));
    }
    if s.n_prompts > MAX_RUN_PROMPTS {
        return Err(format!(
            "{name}: a run of {} prompts, expected at most {MAX_RUN_PROMPTS}",
            s.n_prompts
        ));
    }
    Ok(())
}

/// The first top-level field where two configurations differ.
fn config_difference(a: &Results, b: &Results) -> Option<String> {
    let (a, b) = (
        serde_json::to_value(&a.config).ok()?,
        serde_json::to_value(&b.config).ok()?,
    );
    let (a, b) = (a.as_object()?, b.as_object()?);
    a.keys()
        .chain(b.keys())
        .find(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            let show = |v: Option<&serde_json::Value>| v.map_or("absent".into(), |v| v.to_string());
            format!(
                "config.{k} is {} in one and {} in the other",
                show(a.get(k)),
                show(b.get(k))
            )
        })
}

/// Checks that the parts are one run's, each prompt in exactly one; returns, for each prompt of
/// the whole run, its part and its position there.
fn check(parts: &[(PathBuf, Part)]) -> Result<Vec<(usize, usize)>, String> {
    let (first_path, first) = &parts[0];
    let (count, n) = (first.shard.count, first.shard.n_prompts);
    for (path, part) in parts {
        let s = &part.shard;
        let name = path.display();
        if (s.count, s.n_prompts) != (count, n) {
            return Err(format!(
                "{name} is shard {}/{} of {} prompts, {} is shard {}/{count} of {n}: parts of \
                 different runs",
                s.index,
                s.count,
                s.n_prompts,
                first_path.display(),
                first.shard.index
            ));
        }
        if s.model != first.shard.model {
            return Err(format!(
                "{name} and {} were computed with different model files (SHA-256 of the \
                 weights or the tokenizer differ)",
                first_path.display()
            ));
        }
        if let Some(diff) = config_difference(&part.results, &first.results) {
            return Err(format!(
                "{name} and {} are parts of different runs: {diff}",
                first_path.display()
            ));
        }
        if !part.results.complete {
            return Err(format!(
                "{name} (shard {}/{count}) was cancelled (complete: false): run that shard again",
                s.index
            ));
        }
        let expected: Vec<usize> = (s.index..n).step_by(count.max(1)).collect();
        if s.prompt_indices != expected || part.results.prompts.len() != expected.len() {
            return Err(format!(
                "{name}: shard {}/{count} should hold prompts {expected:?} of {n}, it holds {:?} \
                 ({} prompt records)",
                s.index,
                s.prompt_indices,
                part.results.prompts.len()
            ));
        }
    }
    let mut owner: Vec<Option<(usize, usize)>> = vec![None; n];
    for (p, (path, part)) in parts.iter().enumerate() {
        for (local, &i) in part.shard.prompt_indices.iter().enumerate() {
            if let Some((q, _)) = owner[i] {
                return Err(format!(
                    "prompt {i} is in both {} and {} (shard {}/{count} given twice)",
                    parts[q].0.display(),
                    path.display(),
                    part.shard.index
                ));
            }
            owner[i] = Some((p, local));
        }
    }
    let mut missing: Vec<usize> = (0..count)
        .filter(|&k| !parts.iter().any(|(_, p)| p.shard.index == k))
        .collect();
    missing.retain(|&k| k < n);
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|k| format!("{k}/{count}")).collect();
        return Err(format!(
            "missing part{} for shard{} {}: every shard of the run is needed",
            if names.len() > 1 { "s" } else { "" },
            if names.len() > 1 { "s" } else { "" },
            names.join(", ")
        ));
    }
    Ok(owner.into_iter().flatten().collect())
}

/// Rows of each prompt of the whole run, in order, taken from the parts' `field`.
pub(crate) fn gather<T: Clone>(
    parts: &[(PathBuf, Part)],
    order: &[(usize, usize)],
    field: impl Fn(&Results) -> Option<&Vec<T>>,
) -> Option<Vec<T>> {
    let rows: Vec<Option<&Vec<T>>> = parts.iter().map(|(_, p)| field(&p.results)).collect();
    // A part with no prompt ran nothing: it has no scores to give.
    if parts
        .iter()
        .zip(&rows)
        .any(|((_, p), r)| r.is_none() && !p.results.prompts.is_empty())
    {
        return None;
    }
    order
        .iter()
        .map(|&(p, local)| rows[p]?.get(local).cloned())
        .collect()
}

/// `method`'s scores of the whole run, gathered from the parts.
fn method_scores(
    parts: &[(PathBuf, Part)],
    order: &[(usize, usize)],
    method: Method,
) -> Option<MethodScores> {
    let optional = |field: fn(&MethodScores) -> Option<&Vec<Vec<f32>>>| {
        gather(parts, order, |r| r.scores(method).and_then(field))
    };
    Some(MethodScores {
        heads: gather(parts, order, |r| r.scores(method).map(|s| &s.heads))?,
        neurons: gather(parts, order, |r| r.scores(method).map(|s| &s.neurons))?,
        convergence_delta_heads: optional(|s| s.convergence_delta_heads.as_ref()),
        convergence_delta_neurons: optional(|s| s.convergence_delta_neurons.as_ref()),
        heads_pos: gather::<Vec<Vec<Vec<f32>>>>(parts, order, |r| {
            r.scores(method).and_then(|s| s.heads_pos.as_ref())
        }),
    })
}

/// A part's curves.
fn f(r: &Results) -> Option<&gradpatch_study::Faithfulness> {
    r.faithfulness.as_ref()
}

/// The faithfulness curves of the whole run, gathered from the parts' (each curve's rows in
/// prompt order), when the parts have them.
fn merged_faithfulness(
    parts: &[(PathBuf, Part)],
    order: &[(usize, usize)],
) -> Option<gradpatch_study::Faithfulness> {
    use gradpatch_study::faithfulness::Band;
    let first = parts[0].1.results.faithfulness.as_ref()?;
    let mut merged = first.clone();
    for (m, curves) in merged.methods.iter_mut() {
        curves.heads = gather(parts, order, |r| f(r)?.methods.get(m).map(|c| &c.heads))?;
        curves.neurons = gather(parts, order, |r| f(r)?.methods.get(m).map(|c| &c.neurons))?;
    }
    let band = |of: fn(&gradpatch_study::Faithfulness) -> &Band| -> Option<Band> {
        Some(Band {
            mean: gather(parts, order, |r| f(r).map(|x| &of(x).mean))?,
            p05: gather(parts, order, |r| f(r).map(|x| &of(x).p05))?,
            p95: gather(parts, order, |r| f(r).map(|x| &of(x).p95))?,
        })
    };
    merged.random.heads = band(|x| &x.random.heads)?;
    merged.random.neurons = band(|x| &x.random.neurons)?;
    Some(merged)
}

/// Seconds per stage, summed over the parts.
fn summed_seconds(parts: &[(PathBuf, Part)]) -> serde_json::Map<String, serde_json::Value> {
    let mut seconds = serde_json::Map::new();
    for (_, part) in parts {
        for (k, v) in &part.results.seconds {
            let sum = seconds
                .get(k)
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0)
                + v.as_f64().unwrap_or(0.0);
            seconds.insert(k.clone(), sum.into());
        }
    }
    seconds
}

/// The whole run's results from its checked parts.
pub fn join(parts: &[(PathBuf, Part)]) -> Result<Results, String> {
    let order = check(parts)?;
    let first = &parts[0].1.results;
    let incomplete = || "the parts' scores do not line up with their prompts".to_string();
    let mut results = Results {
        prompts: gather(parts, &order, |r| Some(&r.prompts)).ok_or_else(incomplete)?,
        clean_logit_diff: gather(parts, &order, |r| Some(&r.clean_logit_diff))
            .ok_or_else(incomplete)?,
        corrupted_logit_diff: gather(parts, &order, |r| Some(&r.corrupted_logit_diff))
            .ok_or_else(incomplete)?,
        seconds: summed_seconds(parts),
        ..Results::empty(first.config.clone())
    };
    if !order.is_empty() {
        let nodes = first.config.options.methods.of(MethodOutput::Nodes);
        for method in nodes.iter() {
            let scores = method_scores(parts, &order, method).ok_or_else(incomplete)?;
            results.scores.insert(method, scores);
        }
    }
    if first.faithfulness.is_some() && !order.is_empty() {
        results.faithfulness = Some(merged_faithfulness(parts, &order).ok_or_else(incomplete)?);
    }
    if first.edges.is_some() && !order.is_empty() {
        let edges = crate::merge_edges::merged_edges(parts, &order).ok_or_else(incomplete)?;
        results.edges = Some(edges);
    }
    let percentile = results.config.options.percentile;
    results.stats = statistics(&results, percentile);
    results.stats_pairs = pair_statistics(&results, percentile);
    Ok(results)
}

pub fn run(args: &MergeArgs) -> Result<(), String> {
    check_writable(&args.out)?;
    let parts = args
        .parts
        .iter()
        .map(|p| read_part(p).map(|part| (p.clone(), part)))
        .collect::<Result<Vec<_>, String>>()?;
    let results = join(&parts)?;
    write_outputs(&results, &args.out, args.csv.as_deref())?;
    let PartInfo {
        count, n_prompts, ..
    } = parts[0].1.shard;
    eprintln!(
        "wrote {} ({n_prompts} prompts from {count} parts)",
        args.out.display()
    );
    Ok(())
}
