//! `gradpatch train-demo`: trains the project's small IOI GPT-2 and writes model.safetensors,
//! tokenizer.json and config.json; `gradpatch eval-ioi`: IOI figures of a model on held-out
//! prompts.

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use gradpatch_dataset::Gpt2Tokenizer;
use gradpatch_model::{Gpt2, LoadOptions, Processing};
use gradpatch_train::Split;
use gradpatch_train::eval::{MAX_CORRUPTED_RATIO, MIN_FRACTION_POSITIVE, MIN_MEAN_CLEAN};
use gradpatch_train::{IoiEval, TemplateEval, TrainConfig, eval_by_template, eval_ioi, train};

use crate::files::load;
use crate::{Backend, ModelArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct TrainDemoArgs {
    /// Directory to write model.safetensors, tokenizer.json and config.json into.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Training steps (default: the demo model's 2000).
    #[arg(long)]
    steps: Option<usize>,
    #[arg(long, value_enum, default_value = "ndarray")]
    backend: Backend,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SplitArg {
    /// Names and templates held out of every training IOI prompt.
    Heldout,
    /// Templates written by hand to differ in structure from every training template, with
    /// the held-out names.
    Handwritten,
    /// The standard generator's pools (`gradpatch run --ioi`, the page's prompts).
    Standard,
    /// The training pools.
    Train,
}

impl SplitArg {
    fn split(self) -> Split {
        match self {
            SplitArg::Heldout => Split::HeldOut,
            SplitArg::Handwritten => Split::HandWritten,
            SplitArg::Standard => Split::Standard,
            SplitArg::Train => Split::Train,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SplitArg::Heldout => "held-out (names and templates never in a training IOI prompt)",
            SplitArg::Handwritten => {
                "hand-written (templates unlike any training template, held-out names)"
            }
            SplitArg::Standard => "standard (the generator behind `run --ioi`)",
            SplitArg::Train => "training-pool",
        }
    }
}

#[derive(clap::Args, Clone, Debug)]
pub struct EvalIoiArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long, default_value_t = 200)]
    n: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_enum, default_value = "heldout")]
    split: SplitArg,
    /// Figures per template (a Markdown table; `--n` is then spread over the templates).
    #[arg(long)]
    by_template: bool,
    /// Print the figures as JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn print_eval(e: &IoiEval, split: SplitArg, seed: u64) {
    println!("IOI on {} {} prompts, seed {seed}:", e.n, split.describe());
    println!(
        "  mean clean logit difference      {:>8.3}   (threshold ≥ {MIN_MEAN_CLEAN})",
        e.mean_clean
    );
    println!(
        "  clean prompts preferring the IO  {:>7.1}%   (threshold ≥ {:.0}%)",
        100.0 * e.fraction_positive,
        100.0 * MIN_FRACTION_POSITIVE
    );
    println!(
        "  mean corrupted (aba) logit diff  {:>8.3}   (threshold ≤ {MAX_CORRUPTED_RATIO} × clean)",
        e.mean_corrupted
    );
    println!(
        "  corrupted prompts preferring S   {:>7.1}%",
        100.0 * e.fraction_corrupted_negative
    );
}

/// Scores `model` and fails with the reasons when a threshold is missed.
fn evaluate(
    model: &Gpt2,
    tok: &Gpt2Tokenizer,
    split: SplitArg,
    n: usize,
    seed: u64,
    json: bool,
) -> Result<(), String> {
    let e = eval_ioi(model, tok, split.split(), n, seed).map_err(|e| e.to_string())?;
    if json {
        let mut v = serde_json::to_value(&e).map_err(|err| err.to_string())?;
        v["passes"] = e.failures().is_empty().into();
        println!("{v}");
    } else {
        print_eval(&e, split, seed);
    }
    verdict(&e)
}

/// `| template | … |` rows, then the pooled figures.
fn print_table(rows: &[TemplateEval], all: &IoiEval) {
    println!(
        "| template | prompts | mean clean logit diff | clean prompts preferring IO | mean corrupted logit diff |"
    );
    println!("|---|---|---|---|---|");
    let line = |name: &str, e: &IoiEval| {
        println!(
            "| {name} | {} | {:.3} | {:.1}% | {:.3} |",
            e.n,
            e.mean_clean,
            100.0 * e.fraction_positive,
            e.mean_corrupted
        );
    };
    for r in rows {
        line(&format!("`{}`", r.template), &r.eval);
    }
    line("**all**", all);
}

/// Per-template figures of `split`; fails when the pooled figures miss a threshold.
fn evaluate_by_template(
    model: &Gpt2,
    tok: &Gpt2Tokenizer,
    args: &EvalIoiArgs,
) -> Result<(), String> {
    let rows = eval_by_template(model, tok, args.split.split(), args.n, args.seed)
        .map_err(|e| e.to_string())?;
    let per = rows.first().map_or(0, |r| r.eval.n);
    let all = IoiEval::pooled(rows.iter().map(|r| &r.eval));
    if args.json {
        let v = serde_json::json!({
            "templates": rows,
            "all": all,
            "passes": all.failures().is_empty(),
        });
        println!("{v}");
    } else {
        println!(
            "IOI on {} {} prompts ({per} per template), seed {}:",
            all.n,
            args.split.describe(),
            args.seed
        );
        print_table(&rows, &all);
    }
    verdict(&all)
}

fn verdict(e: &IoiEval) -> Result<(), String> {
    let failures = e.failures();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the model does not do IOI on these prompts: {}",
            failures.join("; ")
        ))
    }
}

pub fn eval(args: &EvalIoiArgs) -> Result<(), String> {
    let loaded = load(&args.model)?;
    if args.by_template {
        return evaluate_by_template(&loaded.model, &loaded.tokenizer, args);
    }
    evaluate(
        &loaded.model,
        &loaded.tokenizer,
        args.split,
        args.n,
        args.seed,
        args.json,
    )
}

pub fn run(args: &TrainDemoArgs) -> Result<(), String> {
    let mut cfg = TrainConfig::demo(args.seed);
    if let Some(steps) = args.steps {
        cfg.steps = steps;
    }
    eprintln!(
        "training a {}-layer, {}-head, d_model {} GPT-2 for {} steps of {} sentences (seed {})",
        cfg.n_layers, cfg.n_heads, cfg.d_model, cfg.steps, cfg.batch, cfg.seed
    );
    let every = (cfg.steps / 50).max(1);
    let (mut loss_avg, mut ans_avg) = (0.0f32, 0.0f32);
    let trained = train(&cfg, &args.backend.device(), &mut |p| {
        let k = (p.step - 1) % every + 1;
        loss_avg += (p.loss - loss_avg) / k as f32;
        ans_avg += (p.answer_loss - ans_avg) / k as f32;
        if p.step % every == 0 || p.step == p.steps {
            let eta = p.seconds / p.step as f64 * (p.steps - p.step) as f64;
            eprintln!(
                "step {:>5}/{}  loss {:.4}  answer loss {:.4}  {:.0}s elapsed, ~{:.0}s left",
                p.step, p.steps, loss_avg, ans_avg, p.seconds, eta
            );
            let _ = std::io::stderr().flush();
        }
    })
    .map_err(|e| e.to_string())?;
    trained.write(&args.out).map_err(|e| e.to_string())?;
    crate::manifest::run(&args.out, false)?;
    eprintln!("wrote {}", args.out.display());
    let files = trained.files().map_err(|e| e.to_string())?;
    let get = |name: &str| files.iter().find(|(n, _)| *n == name).map(|(_, b)| b);
    let (Some(weights), Some(config), Some(tokenizer)) = (
        get("model.safetensors"),
        get("config.json"),
        get("tokenizer.json"),
    ) else {
        return Err("the trained files are incomplete".to_string());
    };
    let model = Gpt2::load(
        weights,
        &LoadOptions {
            config_json: Some(config),
            n_heads: None,
        },
        Processing::all(),
        &args.backend.device(),
    )
    .map_err(|e| format!("the written model does not load: {e}"))?;
    let tok = Gpt2Tokenizer::from_bytes(tokenizer).map_err(|e| e.to_string())?;
    // Both checks print their figures before either verdict counts.
    let held_out = evaluate(&model, &tok, SplitArg::Heldout, 200, 1, false);
    let hand_written = evaluate(&model, &tok, SplitArg::Handwritten, 400, 1, false);
    held_out.and(hand_written)
}
