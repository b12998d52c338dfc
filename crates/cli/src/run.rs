//! `gradpatch run`: the comparison of the chosen methods, written as results.json (and CSV
//! tables).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use gradpatch_dataset::{Corruption, TokenizedPair, generate_ioi};
use gradpatch_study::{Results, StudyConfig, StudyProgress, csv, run_study};
use gradpatch_terms::{ComponentKind, Prompts, StudyOptions, duration_text, seconds_left};

use crate::ModelArgs;
use crate::files::{load_files, model_files, processing, prompts};
use crate::options::{OptionArgs, args_of};
use crate::shard::{ModelDigest, Part, PartInfo, Shard};
use crate::status::ProgressWriter;

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// JSON list of {"clean", "corrupted", "correct", "incorrect"}.
    #[arg(long, conflicts_with = "ioi")]
    prompts: Option<PathBuf>,
    /// Generate N IOI prompt pairs instead of reading --prompts.
    #[arg(long)]
    ioi: Option<usize>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = "aba")]
    corrupt: Corruption,
    #[command(flatten)]
    options: OptionArgs,
    #[arg(long)]
    out: PathBuf,
    /// Also write scores.csv, prompts.csv and stats.csv (long format) into this directory.
    #[arg(long, conflicts_with = "shard")]
    csv: Option<PathBuf>,
    /// Compute only shard K of N (the prompts whose index is K modulo N) and write a part for
    /// `gradpatch merge`.
    #[arg(long)]
    shard: Option<Shard>,
    /// What results.json records as the model (default: the folder). The page applies the
    /// bundled IOI circuit to results whose model is `openai-community/gpt2@<pinned revision>`.
    #[arg(long)]
    model_name: Option<String>,
}

/// Most IOI prompts a run accepts (the page's bound is lower).
const MAX_IOI: usize = 10_000;

pub fn in_range(flag: &str, value: usize, max: usize) -> Result<(), String> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{flag} {value} is out of range: expected 1 to {max}"
        ))
    }
}

/// Fails if `path` cannot be written (missing folder, no permission, a directory), without
/// touching an existing file there: a probe file is created beside it and removed.
pub fn check_writable(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!(
            "{} is a directory, expected a file path",
            path.display()
        ));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Named after the output and the moment, not only the process: every pod of a Kubernetes
    // Job is PID 1 on the same shared volume, and a pod killed between create and remove must
    // not leave a name that blocks the next one.
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let mut attempt = 0;
    let probe = loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let probe = dir.join(format!(
            ".{name}.write-check-{}-{nanos}-{attempt}",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
        {
            Ok(_) => break probe,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => {
                attempt += 1;
            }
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
    };
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The prompt pairs of the run and where they came from (`prompts_source`).
fn prompt_pairs(
    args: &RunArgs,
    loaded: &crate::files::Loaded,
) -> Result<(Vec<TokenizedPair>, serde_json::Value), String> {
    let n_ctx = loaded.model.config.n_ctx;
    match (args.ioi, &args.prompts) {
        (Some(n), _) => {
            let pairs = generate_ioi(n, args.seed, args.corrupt, &loaded.tokenizer, n_ctx)
                .map_err(|e| e.to_string())?;
            let source = StudyConfig::source_of(&Prompts::Ioi {
                n,
                seed: args.seed,
                corrupt: args.corrupt,
            });
            Ok((pairs, source))
        }
        (None, path) => {
            let source = path
                .as_ref()
                .map_or("embedded model-a prompts".to_string(), |p| {
                    p.display().to_string()
                });
            Ok((
                prompts(path.as_deref(), loaded)?,
                serde_json::json!({ "file": source }),
            ))
        }
    }
}

/// The shard's prompts of `pairs`, and what its part records; all of them without a shard.
fn shard_of(
    args: &RunArgs,
    files: &crate::files::ModelFiles,
    pairs: Vec<TokenizedPair>,
) -> (Vec<TokenizedPair>, Option<PartInfo>) {
    let Some(shard) = args.shard else {
        return (pairs, None);
    };
    let n_prompts = pairs.len();
    let indices = shard.indices(n_prompts);
    let mine = indices.iter().map(|&i| pairs[i].clone()).collect();
    let info = PartInfo {
        index: shard.index,
        count: shard.count,
        n_prompts,
        prompt_indices: indices,
        model: ModelDigest::of(&files.weights, &files.tokenizer),
    };
    (mine, Some(info))
}

/// Draws the progress bar on stderr (at most 4 times a second) and keeps the progress file.
struct ProgressBar {
    t0: Instant,
    last_draw: f64,
    file: ProgressWriter,
    stop: crate::stop::StopFlag,
}

impl ProgressBar {
    fn update(&mut self, p: StudyProgress) -> bool {
        let now = self.t0.elapsed().as_secs_f64();
        self.file.write(p.fraction, now, false);
        if now - self.last_draw > 0.25 || p.fraction >= 1.0 {
            self.last_draw = now;
            let width = 30;
            let filled = ((p.fraction * width as f64) as usize).min(width);
            let rest = seconds_left(now, p.fraction).unwrap_or(f64::NAN);
            let _ = write!(
                std::io::stderr(),
                "\r[{}{}] {:5.1}%  prompt {}/{}  {:<4}  elapsed {}  ETA {}   ",
                "#".repeat(filled),
                ".".repeat(width - filled),
                100.0 * p.fraction,
                p.prompt + 1,
                p.n_prompts,
                p.stage.label(),
                duration_text(now),
                duration_text(rest),
            );
        }
        // A signal cancels the study at its next step: what is finished is written below.
        self.stop.signal().is_none()
    }
}

/// Checks everything that can be checked before a run of minutes or hours.
fn check_args(args: &RunArgs) -> Result<StudyOptions, String> {
    let options = args.options.options()?;
    if let Some(n) = args.ioi {
        in_range("--ioi", n, MAX_IOI)?;
    }
    check_writable(&args.out)?;
    if let Some(dir) = &args.csv {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        check_writable(&dir.join("scores.csv"))?;
    }
    Ok(options)
}

pub fn run(args: &RunArgs) -> Result<(), String> {
    let options = check_args(args)?;
    // Every option spelled out: the arguments that rerun this comparison whatever the defaults.
    eprintln!("options: {}", args_of(&options).join(" "));
    let started = Instant::now();
    let files = model_files(&args.model)?;
    let loaded = load_files(&args.model, &files)?;
    let (pairs, source) = prompt_pairs(args, &loaded)?;
    let (pairs, part) = shard_of(args, &files, pairs);
    let config = StudyConfig {
        model: args
            .model_name
            .clone()
            .unwrap_or_else(|| args.model.describe()),
        processing: processing(&args.model),
        options,
        prompts_source: source,
        backend: args.model.backend.name().into(),
    };
    let load_s = started.elapsed().as_secs_f64();
    let mut bar = ProgressBar {
        t0: Instant::now(),
        last_draw: 0.0,
        file: ProgressWriter::new(&args.out, args.shard, pairs.len()),
        stop: crate::stop::StopFlag::install(),
    };
    bar.file.write(0.0, 0.0, false);
    let mut progress = |p: StudyProgress| bar.update(p);
    let mut results =
        run_study(&loaded.model, &pairs, &config, &mut progress).map_err(|e| e.to_string())?;
    eprintln!();
    let total = bar.t0.elapsed().as_secs_f64();
    results.seconds.insert("load".into(), load_s.into());
    results.seconds.insert("comparison".into(), total.into());
    match part {
        Some(shard) => {
            let part = Part { shard, results };
            let json = serde_json::to_vec(&part).map_err(|e| e.to_string())?;
            crate::files::write_atomic(&args.out, &json)?;
            results = part.results;
        }
        None => write_outputs(&results, &args.out, args.csv.as_deref())?,
    }
    if let Some(sig) = bar.stop.signal() {
        // Prompts every method finished (a cancelled prompt's scores are NaN).
        let finished = results
            .scores
            .values()
            .map(|s| {
                s.heads
                    .iter()
                    .filter(|p| p.iter().flatten().all(|v| v.is_finite()))
                    .count()
            })
            .min()
            .unwrap_or(0);
        eprintln!(
            "stopped by {}: wrote {} with the {finished} of {} prompts every method finished (complete: false); run it again to compute all",
            crate::stop::name(sig),
            args.out.display(),
            results.prompts.len()
        );
        // As a process killed by the signal would report (128 + its number).
        std::process::exit(128 + sig);
    }
    bar.file.write(1.0, total, true);
    eprintln!(
        "wrote {} ({} prompts, {:.1} s)",
        args.out.display(),
        results.prompts.len(),
        total
    );
    print_summary(&results);
    Ok(())
}

/// Each edge method: how many of exact patching's top edges it found, its faithfulness.
fn print_edge_summary(results: &Results) {
    let Some(e) = &results.edges else { return };
    for &method in e.scores.keys() {
        let start = format!("{:>7}   edges:", method.label());
        let mut line = start.clone();
        if let Some((found, possible)) = e.exact.as_ref().and_then(|x| x.found_total(method)) {
            let n = e.exact.as_ref().map_or(0, |x| x.found_n);
            line +=
                &format!(" finds {found} of {possible} of exact patching's top {n} per prompt;");
        }
        if let Some((_, area, k80)) = e.faithfulness.as_ref().and_then(|f| f.summary(method)) {
            let k80 = k80.map_or("—".to_string(), |k| k.to_string());
            line += &format!(
                " faithfulness area {area:.3}, 80% reached at k = {k80} of {}",
                e.n_edges
            );
        }
        if line != start {
            eprintln!("{line}");
        }
    }
}

/// Each pair's statistics, one line per kind of component; each method's faithfulness.
fn print_summary(results: &Results) {
    print_edge_summary(results);
    let percentile = results.config.options.percentile;
    if let Some(f) = &results.faithfulness {
        for (&method, kind) in f
            .methods
            .keys()
            .flat_map(|m| ComponentKind::ALL.map(|k| (m, k)))
        {
            if let Some(s) = f.summary(method, kind, percentile) {
                eprintln!(
                    "{:>7} {:>7}: faithfulness area {:.3}, 80% reached at k = {}, {:.3} at the {} highlighted",
                    method.label(),
                    kind.label(),
                    s.area,
                    s.k80.map_or("—".to_string(), |k| k.to_string()),
                    s.at_highlighted,
                    s.highlighted
                );
            }
        }
    }
    for (pair, stats) in results.stats_pairs.iter().flat_map(|p| p.iter()) {
        for (kind, c) in [("heads", &stats.heads), ("neurons", &stats.neurons)] {
            eprintln!(
                "{:>7} {kind:>7}: pearson {:+.3} ± {:.3}, jaccard (top {:.0}%) {:.3}, mean difference {:+.4} (sd {:.4})",
                pair.label(),
                c.pearson_mean,
                c.pearson_std,
                100.0 * (1.0 - percentile),
                c.jaccard_mean,
                c.mean_difference,
                c.sd_difference
            );
        }
    }
}

pub fn write_outputs(results: &Results, out: &Path, csv_dir: Option<&Path>) -> Result<(), String> {
    crate::files::write_atomic_with(out, |w| {
        serde_json::to_writer(w, results).map_err(std::io::Error::other)
    })?;
    if let Some(dir) = csv_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // Each table streamed to its file: none is held in memory whole.
        type Table<'r> = &'r dyn Fn(&mut crate::files::FmtIo<'_>);
        let tables: [(&str, Table); 5] = [
            ("scores.csv", &|o| csv::write_scores(results, o)),
            ("prompts.csv", &|o| csv::write_prompts(results, o)),
            ("stats.csv", &|o| csv::write_stats(results, o)),
            ("faithfulness.csv", &|o| csv::write_faithfulness(results, o)),
            ("edges.csv", &|o| csv::write_edges(results, o)),
        ];
        for (name, table) in tables {
            crate::files::write_atomic_with(&dir.join(name), |w| {
                let mut out = crate::files::FmtIo::new(w);
                table(&mut out);
                out.finish()
            })?;
        }
    }
    Ok(())
}
