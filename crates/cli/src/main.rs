//! `gradpatch`: the native command line of the gradpatch engine.

mod bench;
mod bench_edges;
mod bench_methods;
mod files;
mod logits;
mod manifest;
mod merge;
mod merge_edges;
mod merge_rows;
mod options;
mod random;
mod run;
mod score_circuit;
mod shard;
mod status;
mod stop;
mod train_demo;

use std::path::PathBuf;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps freed memory instead of handing it back to the OS after 10 ms: the sweeps free and
/// allocate tensors of tens of MB all the time, and each fresh page costs a fault and a zeroing
/// (an IG sweep on GPT-2 small spent ~7% of its time clearing pages: 41.3 -> 36.2 s). The peak
/// is what the process keeps, as before.
fn keep_freed_memory() {
    // `mi_option_purge_delay` in mimalloc.h (v2 and v3); -1 = never purge.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a plain integer option; mimalloc reads it when it next considers purging.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

use std::process::ExitCode;

use burn::tensor::{Device, DeviceKind};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "gradpatch",
    version,
    about = "Integrated Gradients vs activation patching on GPT-2"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Backend {
    /// burn's ndarray backend (CPU).
    Ndarray,
    /// burn-wgpu (Vulkan/Metal/DX12 natively; lavapipe on machines without a GPU).
    Wgpu,
}

impl ModelArgs {
    /// How results.json names the model.
    pub fn describe(&self) -> String {
        match (&self.model, &self.weights) {
            (None, _) => "embedded model-a".to_string(),
            (Some(dir), None) => dir.display().to_string(),
            (Some(dir), Some(w)) => dir.join(w).display().to_string(),
        }
    }
}

impl Backend {
    /// How results.json names it (as `--backend` does).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
        }
    }

    pub fn device(self) -> Device {
        match self {
            // ndarray is the reference CPU backend here; burn 0.22 marks it deprecated for flex.
            #[allow(deprecated)]
            Backend::Ndarray => Device::ndarray(),
            Backend::Wgpu => Device::wgpu(DeviceKind::DefaultDevice),
        }
    }
}

/// Where the model comes from: a directory, or the embedded reference model-a.
#[derive(clap::Args, Clone, Debug)]
pub struct ModelArgs {
    /// Directory with model.safetensors (or --weights), tokenizer.json and optional config.json.
    /// Default: the embedded tiny reference model (model-a).
    #[arg(long)]
    model: Option<PathBuf>,
    /// The safetensors file inside --model, when it is not model.safetensors.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Head count when the model has no config.json (GPT-2 small: 12).
    #[arg(long)]
    heads: Option<usize>,
    /// Use the stored weights as they are (no TransformerLens weight processing).
    #[arg(long)]
    no_processing: bool,
    #[arg(long, value_enum, default_value = "ndarray")]
    backend: Backend,
}

#[derive(Subcommand)]
enum Command {
    /// Clean and corrupted logit differences of each prompt pair.
    Logits {
        #[command(flatten)]
        model: ModelArgs,
        /// JSON list of {"clean", "corrupted", "correct", "incorrect"}. Default: model-a's 16 IOI pairs.
        #[arg(long)]
        prompts: Option<PathBuf>,
        /// Print JSON on stdout (otherwise a table).
        #[arg(long)]
        json: bool,
    },
    /// Write a GPT-2-shaped checkpoint with random weights, config.json and the GPT-2 tokenizer.
    MakeRandomGpt2 {
        #[arg(long)]
        out: PathBuf,
        /// The shape: small (GPT-2, 124 M parameters), distil (distilgpt2, 82 M) or medium
        /// (gpt2-medium, 355 M).
        #[arg(long, default_value = "small")]
        preset: gradpatch_model::Gpt2Preset,
        #[arg(long, value_enum, default_value = "hub")]
        layout: random::Layout,
        #[arg(long, value_enum, default_value = "f32")]
        dtype: random::Dtype,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Time the full AP sweep and IG against the naive one-forward-per-component loop.
    BenchMethods(bench_methods::BenchMethodsArgs),
    /// The comparison (AtP, IG, AP) on every head and neuron, written as results.json; with
    /// --shard K/N, one shard of it written as a part for `merge`.
    Run(run::RunArgs),
    /// Join the parts of a sharded run into the results.json of the whole run.
    Merge(merge::MergeArgs),
    /// Write DIR/manifest.json (size and SHA-256 of each model file), by which the page loads
    /// and caches the folder by content; --check verifies it instead.
    Manifest {
        dir: PathBuf,
        #[arg(long)]
        check: bool,
    },
    /// A preset's pinned files as JSON ({name, base, files: [{name, bytes, sha256}]}), for
    /// deploy/pages/precompute-gpt2.sh.
    Pins {
        /// gpt2 (GPT-2 small), distilgpt2 or gpt2-medium.
        #[arg(long, default_value = "gpt2", value_parser = parse_preset)]
        preset: gradpatch_config::Preset,
    },
    /// How well each method of a results.json finds a known circuit: ROC AUC, precision and
    /// recall at k, per class and variant, and the per-position AUC.
    ScoreCircuit(score_circuit::ScoreCircuitArgs),
    /// Sum the progress files of the runs writing into a folder (e.g. the shards of a run).
    Status(status::StatusArgs),
    /// Train the project's small IOI GPT-2 (tokenizer and model) and write it to --out.
    TrainDemo(train_demo::TrainDemoArgs),
    /// IOI figures on held-out prompts: clean and aba-corrupted logit differences.
    EvalIoi(train_demo::EvalIoiArgs),
    /// Time loading and forward passes (1 and 10 IOI prompts) and report peak memory.
    Bench {
        #[command(flatten)]
        model: ModelArgs,
        /// Repetitions of each forward measurement (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
}

/// A preset's pins, from the one list the page's worker checks downloads against.
fn pins(preset: gradpatch_config::Preset) -> serde_json::Value {
    let files: Vec<serde_json::Value> = preset
        .files()
        .iter()
        .map(|f| serde_json::json!({"name": f.name, "bytes": f.bytes, "sha256": f.sha256}))
        .collect();
    serde_json::json!({
        "name": preset.name(),
        "base": preset.base(),
        "files": files,
    })
}

/// `--preset` of `pins`: a preset's key as links write it.
fn parse_preset(key: &str) -> Result<gradpatch_config::Preset, String> {
    use gradpatch_terms::Keyed;
    gradpatch_config::Preset::from_key(key).ok_or_else(|| {
        let keys: Vec<&str> = gradpatch_config::Preset::ALL
            .iter()
            .map(|p| p.key())
            .collect();
        format!(
            "unknown preset {key:?}, expected one of {}",
            keys.join(", ")
        )
    })
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Logits {
            model,
            prompts,
            json,
        } => logits::run(&model, prompts.as_deref(), json),
        Command::MakeRandomGpt2 {
            out,
            preset,
            layout,
            dtype,
            seed,
        } => random::run(&out, preset, layout, dtype, seed),
        Command::Bench { model, repeats } => bench::run(&model, repeats),
        Command::Run(args) => run::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Status(args) => status::run(&args),
        Command::ScoreCircuit(args) => score_circuit::run(&args),
        Command::Manifest { dir, check } => manifest::run(&dir, check),
        Command::Pins { preset } => {
            println!("{}", pins(preset));
            Ok(())
        }
        Command::BenchMethods(args) => bench_methods::run(&args),
        Command::TrainDemo(args) => train_demo::run(&args),
        Command::EvalIoi(args) => train_demo::eval(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
