//! `gradpatch merge`: the parts of a sharded run joined into the results.json that one
//! `gradpatch run` of the whole prompt list writes (the same scores, bit for bit; the statistics
//! computed again from them).

use std::path::{Path, PathBuf};

use clap::Args;
use gradpatch_study::{Results, pair_statistics, statistics};
use serde::Deserialize;

use crate::files::read_capped;
use crate::merge_rows::Merger;
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

/// A part's `shard` field alone (the rest skipped without being kept): `Option` so that a
/// whole run's results.json is refused with a message saying so.
#[derive(Deserialize)]
struct ShardOf {
    #[serde(default)]
    shard: Option<PartInfo>,
}

/// A part, parsed in two passes over its bytes: its `shard`, then its results. (One pass
/// through `#[serde(flatten)]` would buffer every number of the file as a generic value first:
/// about ten times the file in memory.)
fn read_part(path: &Path) -> Result<Part, String> {
    let bytes = read_capped(path, gradpatch_study::MAX_RESULTS_BYTES, "part")?;
    let parse_error = |e: serde_json::Error| match e.classify() {
        serde_json::error::Category::Data => format!("{}: {e}", path.display()),
        _ => format!("{}: not JSON ({e})", path.display()),
    };
    let head: ShardOf = serde_json::from_slice(&bytes).map_err(parse_error)?;
    let shard = head.shard.ok_or_else(|| {
        format!(
            "{}: not a part of a sharded run (no `shard` field): expected the output of \
             `gradpatch run --shard K/N`",
            path.display()
        )
    })?;
    check_bounds(path, &shard)?;
    let results: Results = serde_json::from_slice(&bytes).map_err(parse_error)?;
    drop(bytes);
    results
        .validate()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Part { shard, results })
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

/// The first top-level field where two configurations (as JSON) differ.
fn config_difference(a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
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

/// What every part must share with the first, and which prompts the parts read so far hold.
struct Run {
    first_path: PathBuf,
    first: PartInfo,
    config: gradpatch_study::StudyConfig,
    config_json: serde_json::Value,
    /// The part holding each prompt (grown as parts arrive).
    owner: Vec<Option<usize>>,
    shards: std::collections::BTreeSet<usize>,
}

impl Run {
    fn new(path: &Path, part: &Part) -> Run {
        Run {
            first_path: path.to_path_buf(),
            first: part.shard.clone(),
            config: part.results.config.clone(),
            config_json: serde_json::to_value(&part.results.config).unwrap_or_default(),
            owner: Vec::new(),
            shards: Default::default(),
        }
    }

    /// Checks that `part` (`paths[p]`) is a part of this run, its prompts in no other part.
    fn check(&mut self, paths: &[PathBuf], p: usize, part: &Part) -> Result<(), String> {
        let path = &paths[p];
        let s = &part.shard;
        let (count, n) = (self.first.count, self.first.n_prompts);
        let name = path.display();
        let first_name = self.first_path.display();
        if (s.count, s.n_prompts) != (count, n) {
            return Err(format!(
                "{name} is shard {}/{} of {} prompts, {first_name} is shard {}/{count} of {n}: \
                 parts of different runs",
                s.index, s.count, s.n_prompts, self.first.index
            ));
        }
        if s.model != self.first.model {
            return Err(format!(
                "{name} and {first_name} were computed with different model files (SHA-256 of \
                 the weights or the tokenizer differ)"
            ));
        }
        let config = serde_json::to_value(&part.results.config).unwrap_or_default();
        if let Some(diff) = config_difference(&config, &self.config_json) {
            return Err(format!(
                "{name} and {first_name} are parts of different runs: {diff}"
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
        for &i in &s.prompt_indices {
            if self.owner.len() <= i {
                self.owner.resize(i + 1, None);
            }
            if let Some(q) = self.owner[i] {
                return Err(format!(
                    "prompt {i} is in both {} and {name} (shard {}/{count} given twice)",
                    paths[q].display(),
                    s.index
                ));
            }
            self.owner[i] = Some(p);
        }
        self.shards.insert(s.index);
        Ok(())
    }

    /// Every shard that holds prompts was given.
    fn complete(&self) -> Result<(), String> {
        let (count, n) = (self.first.count, self.first.n_prompts);
        let missing: Vec<String> = (0..count.min(n))
            .filter(|k| !self.shards.contains(k))
            .map(|k| format!("{k}/{count}"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let s = if missing.len() > 1 { "s" } else { "" };
        Err(format!(
            "missing part{s} for shard{s} {}: every shard of the run is needed",
            missing.join(", ")
        ))
    }
}

/// The whole run's results from its parts, read one at a time: each is checked, its rows are
/// moved into the merged run and it is dropped before the next is read.
pub fn join(paths: &[PathBuf]) -> Result<Results, String> {
    let mut run: Option<(Run, Merger)> = None;
    for (p, path) in paths.iter().enumerate() {
        let part = read_part(path)?;
        let (run, merger) =
            run.get_or_insert_with(|| (Run::new(path, &part), Merger::new(&part.results)));
        run.check(paths, p, &part)?;
        merger.add(&part.shard.prompt_indices, part.results);
    }
    let Some((run, merger)) = run else {
        return Err("no parts given".to_string());
    };
    run.complete()?;
    let mut results = merger
        .finish(run.config.clone(), run.first.n_prompts)
        .ok_or("the parts' scores do not line up with their prompts")?;
    let percentile = results.config.options.percentile;
    results.stats = statistics(&results, percentile);
    results.stats_pairs = pair_statistics(&results, percentile);
    Ok(results)
}

pub fn run(args: &MergeArgs) -> Result<(), String> {
    check_writable(&args.out)?;
    let results = join(&args.parts)?;
    write_outputs(&results, &args.out, args.csv.as_deref())?;
    eprintln!(
        "wrote {} ({} prompts from {} parts)",
        args.out.display(),
        results.prompts.len(),
        args.parts.len()
    );
    Ok(())
}
