//! `gradpatch run`: the full IG-vs-AP comparison, written as results.json (and CSV tables).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use gradpatch_dataset::{Corruption, generate_ioi};
use gradpatch_methods::{Baseline, Direction, Quadrature};
use gradpatch_study::{StudyConfig, StudyProgress, csv, run_study};
use gradpatch_terms::{MethodPair, MethodSet, Stage};

use crate::ModelArgs;
use crate::files::{load_files, model_files, processing, prompts};
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
    /// Comma-separated, any of: ig, ap, atp (AtP follows --ap-direction).
    #[arg(long, default_value = "ig,ap,atp")]
    methods: MethodSet,
    /// Also write each method's head scores per position (`heads_pos`): AtP's and IG's come
    /// with their sums; AP per head and position costs about 4% of the AP sweep more.
    #[arg(long)]
    positions: bool,
    #[arg(long, default_value_t = 50)]
    ig_steps: usize,
    #[arg(long, default_value = "gausslegendre")]
    ig_method: Quadrature,
    #[arg(long, default_value = "zero")]
    ig_baseline: Baseline,
    #[arg(long, default_value = "noising")]
    ap_direction: Direction,
    /// Quantile of |score| above which a component is highlighted.
    #[arg(long, default_value_t = 0.9)]
    percentile: f64,
    #[arg(long)]
    out: PathBuf,
    /// Also write scores.csv, prompts.csv and stats.csv (long format) into this directory.
    #[arg(long, conflicts_with = "shard")]
    csv: Option<PathBuf>,
    /// Compute only shard K of N (the prompts whose index is K modulo N) and write a part for
    /// `gradpatch merge`.
    #[arg(long)]
    shard: Option<Shard>,
}

/// Most IG steps and IOI prompts a run accepts (the page's bounds are lower).
const MAX_IG_STEPS: usize = 1000;
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
    let probe = dir.join(format!(".gradpatch-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// `1h02m` or `3m07s`: an ETA or a duration.
pub fn eta(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

pub fn run(args: &RunArgs) -> Result<(), String> {
    let methods = args.methods;
    if !(args.percentile > 0.0 && args.percentile < 1.0) {
        return Err(format!(
            "--percentile {} must be in (0, 1), e.g. 0.9",
            args.percentile
        ));
    }
    in_range("--ig-steps", args.ig_steps, MAX_IG_STEPS)?;
    if let Some(n) = args.ioi {
        in_range("--ioi", n, MAX_IOI)?;
    }
    // Before a run of minutes or hours, not after it.
    check_writable(&args.out)?;
    if let Some(dir) = &args.csv {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        check_writable(&dir.join("scores.csv"))?;
    }
    args.ig_method.nodes(args.ig_steps)?;
    let started = Instant::now();
    let files = model_files(&args.model)?;
    let loaded = load_files(&args.model, &files)?;
    let n_ctx = loaded.model.config.n_ctx;
    let (pairs, source) = match (args.ioi, &args.prompts) {
        (Some(n), _) => {
            let pairs = generate_ioi(n, args.seed, args.corrupt, &loaded.tokenizer, n_ctx)
                .map_err(|e| e.to_string())?;
            (
                pairs,
                serde_json::json!({"ioi": {"n": n, "seed": args.seed, "corrupt": args.corrupt}}),
            )
        }
        (None, path) => (
            prompts(path.as_deref(), &loaded)?,
            serde_json::json!({"file": path.as_ref().map_or("embedded model-a prompts".to_string(), |p| p.display().to_string())}),
        ),
    };
    let n_prompts = pairs.len();
    let (pairs, part) = match args.shard {
        Some(shard) => {
            let indices = shard.indices(n_prompts);
            let info = PartInfo {
                index: shard.index,
                count: shard.count,
                n_prompts,
                prompt_indices: indices.clone(),
                model: ModelDigest::of(&files.weights, &files.tokenizer),
            };
            let mine = indices.iter().map(|&i| pairs[i].clone()).collect();
            (mine, Some(info))
        }
        None => (pairs, None),
    };
    let config = StudyConfig {
        model: args.model.describe(),
        processing: processing(&args.model),
        methods,
        ig_steps: args.ig_steps,
        ig_method: args.ig_method,
        ig_baseline: args.ig_baseline,
        ap_direction: args.ap_direction,
        percentile: args.percentile,
        positions: args.positions,
        prompts_source: source,
        backend: args.model.backend.name().into(),
    };
    let load_s = started.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let mut last_draw = 0.0f64;
    let mut stage_times: Vec<(Stage, f64)> = Vec::new();
    let mut stderr = std::io::stderr();
    let mut progress_file = ProgressWriter::new(&args.out, args.shard, pairs.len());
    progress_file.write(0.0, 0.0, false);
    let mut progress = |p: StudyProgress| {
        let now = t0.elapsed().as_secs_f64();
        progress_file.write(p.fraction, now, false);
        if stage_times.last().map(|s| s.0) != Some(p.stage) {
            stage_times.push((p.stage, now));
        }
        if now - last_draw > 0.25 || p.fraction >= 1.0 {
            last_draw = now;
            let width = 30;
            let filled = ((p.fraction * width as f64) as usize).min(width);
            let rest = if p.fraction > 0.0 {
                now / p.fraction - now
            } else {
                f64::NAN
            };
            let stage = p.stage.label();
            let _ = write!(
                stderr,
                "\r[{}{}] {:5.1}%  prompt {}/{}  {stage:<4}  elapsed {}  ETA {}   ",
                "#".repeat(filled),
                ".".repeat(width - filled),
                100.0 * p.fraction,
                p.prompt + 1,
                p.n_prompts,
                eta(now),
                if rest.is_finite() {
                    eta(rest)
                } else {
                    "?".to_string()
                },
            );
        }
        true
    };
    let mut results =
        run_study(&loaded.model, &pairs, &config, &mut progress).map_err(|e| e.to_string())?;
    eprintln!();
    let total = t0.elapsed().as_secs_f64();
    results.seconds.insert("load".into(), load_s.into());
    results.seconds.insert("comparison".into(), total.into());
    match part {
        Some(shard) => {
            let part = Part { shard, results };
            let json = serde_json::to_vec(&part).map_err(|e| e.to_string())?;
            std::fs::write(&args.out, json)
                .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
            results = part.results;
        }
        None => write_outputs(&results, &args.out, args.csv.as_deref())?,
    }
    progress_file.write(1.0, total, true);
    eprintln!(
        "wrote {} ({} prompts, {:.1} s)",
        args.out.display(),
        results.prompts.len(),
        total
    );
    let pairs = results.stats_pairs.as_ref();
    for (pair, stats) in MethodPair::ALL
        .iter()
        .filter_map(|&p| pairs.and_then(|s| s.get(p)).map(|s| (p, s)))
    {
        for (kind, c) in [("heads", &stats.heads), ("neurons", &stats.neurons)] {
            eprintln!(
                "{:>7} {kind:>7}: pearson {:+.3} ± {:.3}, jaccard (top {:.0}%) {:.3}, mean difference {:+.4} (sd {:.4})",
                pair.label(),
                c.pearson_mean,
                c.pearson_std,
                100.0 * (1.0 - args.percentile),
                c.jaccard_mean,
                c.mean_difference,
                c.sd_difference
            );
        }
    }
    Ok(())
}

pub fn write_outputs(
    results: &gradpatch_study::Results,
    out: &Path,
    csv_dir: Option<&Path>,
) -> Result<(), String> {
    let json = serde_json::to_vec(results).map_err(|e| e.to_string())?;
    std::fs::write(out, json).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    if let Some(dir) = csv_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for (name, text) in [
            ("scores.csv", csv::scores_csv(results)),
            ("prompts.csv", csv::prompts_csv(results)),
            ("stats.csv", csv::stats_csv(results)),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(())
}
