//! Progress of long runs: each `gradpatch run` keeps a small progress file beside its output
//! (`OUT.progress.json`, rewritten at most once a second), and `gradpatch status DIR` sums the
//! files of a folder, e.g. the parts of a sharded run.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::shard::Shard;
use gradpatch_terms::{duration_text as duration, seconds_left};

/// A run's progress file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgressFile {
    /// `K/N` for a shard.
    pub shard: Option<String>,
    /// Prompts this run computes.
    pub prompts: usize,
    /// Fraction of the run done, 0 to 1.
    pub fraction: f64,
    pub elapsed_s: f64,
    /// Estimated seconds left (`null` before the first estimate).
    pub eta_s: Option<f64>,
    pub finished: bool,
    /// When the file was written (seconds since 1970).
    pub updated_unix_s: f64,
}

/// Where the progress of a run writing `out` is kept: `part-1.json` → `part-1.progress.json`.
pub fn progress_path(out: &Path) -> PathBuf {
    out.with_extension("progress.json")
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Writes a run's progress file (atomically: a reader never sees half a file), at most once a
/// second unless `force`.
pub struct ProgressWriter {
    path: PathBuf,
    shard: Option<Shard>,
    prompts: usize,
    last: f64,
}

impl ProgressWriter {
    pub fn new(out: &Path, shard: Option<Shard>, prompts: usize) -> Self {
        Self {
            path: progress_path(out),
            shard,
            prompts,
            last: f64::NEG_INFINITY,
        }
    }

    pub fn write(&mut self, fraction: f64, elapsed_s: f64, finished: bool) {
        if !finished && elapsed_s - self.last < 1.0 {
            return;
        }
        self.last = elapsed_s;
        let eta_s = seconds_left(elapsed_s, fraction);
        let file = ProgressFile {
            shard: self.shard.map(|s| s.to_string()),
            prompts: self.prompts,
            fraction: fraction.clamp(0.0, 1.0),
            elapsed_s,
            eta_s: if finished { Some(0.0) } else { eta_s },
            finished,
            updated_unix_s: now_unix(),
        };
        // Progress is a convenience: a full disk must not stop the run.
        if let Ok(text) = serde_json::to_vec_pretty(&file) {
            let tmp = self.path.with_extension("progress.json.tmp");
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(&tmp, &self.path);
            }
        }
    }
}

#[derive(Args)]
pub struct StatusArgs {
    /// The folder of the runs' outputs (their `*.progress.json` files).
    dir: PathBuf,
    /// Seconds without an update after which an unfinished run is reported as stalled.
    #[arg(long, default_value_t = 300.0)]
    stalled_after: f64,
}

/// Largest progress file read (they are a few hundred bytes).
const MAX_PROGRESS_BYTES: u64 = 64 << 10;

/// One progress file, or why it cannot be read.
fn progress_file(path: &Path) -> Result<ProgressFile, String> {
    let text = crate::files::read_capped(path, MAX_PROGRESS_BYTES, "progress file")?;
    serde_json::from_slice(&text)
        .map_err(|e| format!("{}: not a progress file ({e})", path.display()))
}

/// The progress files of `dir`, by run name, sorted. A file that cannot be read (a run writing
/// it at that moment on a network volume, a damaged one) is skipped with a warning: the others
/// are still reported.
fn progress_files(dir: &Path) -> Result<Vec<(String, ProgressFile)>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<(String, ProgressFile)> = Vec::new();
    let mut skipped = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".progress.json") {
            continue;
        }
        match progress_file(&entry.path()) {
            Ok(file) => files.push((name.trim_end_matches(".progress.json").to_string(), file)),
            Err(e) => {
                eprintln!("warning: skipped {e}");
                skipped += 1;
            }
        }
    }
    if files.is_empty() && skipped > 0 {
        return Err(format!(
            "none of the {skipped} progress files in {} could be read (see the warnings)",
            dir.display()
        ));
    }
    if files.is_empty() {
        return Err(format!(
            "no progress files (*.progress.json) in {}: `gradpatch run --out DIR/NAME.json` writes \
             DIR/NAME.progress.json",
            dir.display()
        ));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// A run's state: finished, or its ETA (and whether it looks stalled).
fn state(f: &ProgressFile, stalled_after: f64, now: f64) -> String {
    if f.finished {
        return "finished".to_string();
    }
    let left = f
        .eta_s
        .map_or("ETA ?".to_string(), |e| format!("ETA {}", duration(e)));
    let age = now - f.updated_unix_s;
    if age > stalled_after {
        format!(
            "{left}; no update for {}: stalled or stopped?",
            duration(age)
        )
    } else {
        left
    }
}

/// The shards of an `N`-shard run that have no progress file yet.
fn missing_shards(seen: &[Shard]) -> Option<String> {
    let n = seen.first()?.count;
    let missing: Vec<String> = (0..n)
        .filter(|k| !seen.iter().any(|s| s.index == *k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "\nno progress yet from shard{} {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        )
    })
}

/// The report of a folder's progress files (one line per run and a total).
pub fn report(dir: &Path, stalled_after: f64, now: f64) -> Result<String, String> {
    let files = progress_files(dir)?;
    let mut out = String::new();
    let (mut total, mut done, mut eta, mut finished) = (0usize, 0.0f64, 0.0f64, 0usize);
    let mut shards_seen: Vec<Shard> = Vec::new();
    for (name, f) in &files {
        shards_seen.extend(f.shard.as_deref().and_then(|s| s.parse::<Shard>().ok()));
        if f.finished {
            finished += 1;
        } else {
            eta = eta.max(f.eta_s.unwrap_or(0.0));
        }
        total += f.prompts;
        done += f.fraction * f.prompts as f64;
        out.push_str(&format!(
            "{name:<24} {:<8} {:>6.1}%  {:>5} prompts  {}\n",
            f.shard.as_deref().unwrap_or("-"),
            100.0 * f.fraction,
            f.prompts,
            state(f, stalled_after, now)
        ));
    }
    let fraction = if total > 0 { done / total as f64 } else { 1.0 };
    out.push_str(&format!(
        "total: {:.1}% of {total} prompts ({finished} of {} runs finished){}",
        100.0 * fraction,
        files.len(),
        if finished == files.len() {
            String::new()
        } else {
            format!(", ETA {}", duration(eta))
        }
    ));
    out.extend(missing_shards(&shards_seen));
    Ok(out)
}

pub fn run(args: &StatusArgs) -> Result<(), String> {
    println!("{}", report(&args.dir, args.stalled_after, now_unix())?);
    Ok(())
}
