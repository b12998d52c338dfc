//! Reading a model directory (or the embedded model-a) and a prompt file.

use std::path::{Path, PathBuf};

use gradpatch_dataset::{Gpt2Tokenizer, TokenizedPair, parse_prompt_pairs, tokenize_pairs};
use gradpatch_model::{Gpt2, LoadOptions, Processing};

use crate::ModelArgs;

const EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../../web/models/model-a/model.safetensors");
const EMBEDDED_CONFIG: &[u8] = include_bytes!("../../../web/models/model-a/config.json");
const EMBEDDED_TOKENIZER: &[u8] = include_bytes!("../../../web/models/model-a/tokenizer.json");
const EMBEDDED_PROMPTS: &[u8] = include_bytes!("../../../web/models/model-a/prompts.json");

/// Largest files read: a model of the loader's 1 B parameters in f32 and its header; the
/// tokenizer and the configuration as the page bounds them; a prompt file of 10,000 pairs many
/// times over.
pub const MAX_WEIGHTS_BYTES: u64 = 4_100_000_000;
pub const MAX_TOKENIZER_BYTES: u64 = 32 << 20;
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
pub const MAX_PROMPTS_BYTES: u64 = 64 << 20;

pub struct Loaded {
    pub model: Gpt2,
    pub tokenizer: Gpt2Tokenizer,
}

pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes `bytes` to `path` whole or not at all: into a temporary file beside it, flushed to
/// disk, then renamed over it, so a crash, a kill or a full disk never leaves a truncated
/// results file (nor destroys the previous one). The temporary file is removed on failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] of what `write` writes, streamed through a buffer (a large results file
/// is never held whole in memory).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), String> {
    use std::io::Write;
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}-{nanos}", std::process::id()));
    let written = (|| {
        let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        write(&mut f)?;
        f.flush()?;
        f.get_ref().sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// Text written through `std::fmt::Write` into a file being written (the CSV tables stream
/// straight to disk); the first I/O error is kept for [`FmtIo::finish`].
pub struct FmtIo<'a> {
    inner: &'a mut std::io::BufWriter<std::fs::File>,
    error: Option<std::io::Error>,
}

impl<'a> FmtIo<'a> {
    pub fn new(inner: &'a mut std::io::BufWriter<std::fs::File>) -> Self {
        Self { inner, error: None }
    }

    pub fn finish(self) -> std::io::Result<()> {
        self.error.map_or(Ok(()), Err)
    }
}

impl std::fmt::Write for FmtIo<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        use std::io::Write;
        if self.error.is_some() {
            return Err(std::fmt::Error);
        }
        self.inner.write_all(s.as_bytes()).map_err(|e| {
            self.error = Some(e);
            std::fmt::Error
        })
    }
}

/// `path`'s bytes, refused without reading them when the file is larger than `cap` bytes.
pub fn read_capped(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if len > cap {
        return Err(format!(
            "{}: {len} bytes; a {what} is at most {cap} bytes",
            path.display()
        ));
    }
    read(path)
}

/// The raw files of a model: weights, tokenizer.json, optional config.json.
pub struct ModelFiles {
    pub weights: Vec<u8>,
    pub tokenizer: Vec<u8>,
    pub config: Option<Vec<u8>>,
    pub name: String,
}

pub fn model_files(args: &ModelArgs) -> Result<ModelFiles, String> {
    let Some(dir) = &args.model else {
        if args.weights.is_some() {
            return Err("--weights needs --model DIR".to_string());
        }
        return Ok(ModelFiles {
            weights: EMBEDDED_WEIGHTS.to_vec(),
            tokenizer: EMBEDDED_TOKENIZER.to_vec(),
            config: Some(EMBEDDED_CONFIG.to_vec()),
            name: "embedded model-a".to_string(),
        });
    };
    if !dir.is_dir() {
        return Err(format!("--model {} is not a directory", dir.display()));
    }
    let weights_path = match &args.weights {
        Some(w) => dir.join(w),
        None => dir.join("model.safetensors"),
    };
    if !weights_path.is_file() {
        return Err(format!(
            "{} not found: expected model.safetensors in the model directory, or name the file with --weights",
            weights_path.display()
        ));
    }
    let config_path = dir.join("config.json");
    Ok(ModelFiles {
        weights: read_capped(&weights_path, MAX_WEIGHTS_BYTES, "model file")?,
        tokenizer: read_capped(
            &dir.join("tokenizer.json"),
            MAX_TOKENIZER_BYTES,
            "tokenizer.json",
        )?,
        config: if config_path.is_file() {
            Some(read_capped(&config_path, MAX_CONFIG_BYTES, "config.json")?)
        } else {
            None
        },
        name: dir.display().to_string(),
    })
}

pub fn processing(args: &ModelArgs) -> Processing {
    if args.no_processing {
        Processing::none()
    } else {
        Processing::all()
    }
}

pub fn load(args: &ModelArgs) -> Result<Loaded, String> {
    load_files(args, &model_files(args)?)
}

/// [`load`] from files already read (a sharded run also hashes them).
pub fn load_files(args: &ModelArgs, files: &ModelFiles) -> Result<Loaded, String> {
    let opts = LoadOptions {
        config_json: files.config.as_deref(),
        n_heads: args.heads,
    };
    let model = Gpt2::load(
        &files.weights,
        &opts,
        processing(args),
        &args.backend.device(),
    )
    .map_err(|e| format!("{}: {e}", files.name))?;
    let tokenizer = Gpt2Tokenizer::from_bytes(&files.tokenizer).map_err(|e| e.to_string())?;
    Ok(Loaded { model, tokenizer })
}

/// Reads and validates a prompt file (default: model-a's 16 IOI pairs).
pub fn prompts(path: Option<&Path>, loaded: &Loaded) -> Result<Vec<TokenizedPair>, String> {
    let bytes = match path {
        Some(p) => read_capped(p, MAX_PROMPTS_BYTES, "prompt file")?,
        None => EMBEDDED_PROMPTS.to_vec(),
    };
    let name = path.map_or_else(|| PathBuf::from("embedded prompts"), Path::to_path_buf);
    let pairs = parse_prompt_pairs(&bytes).map_err(|e| format!("{}: {e}", name.display()))?;
    tokenize_pairs(&pairs, &loaded.tokenizer, loaded.model.config.n_ctx)
        .map_err(|e| format!("{}: {e}", name.display()))
}

#[cfg(test)]
mod tests {
    use super::write_atomic;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("gradpatch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        d
    }

    fn leftovers(d: &std::path::Path) -> Vec<String> {
        std::fs::read_dir(d)
            .map(|e| {
                e.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A write replaces the file whole; one that fails (here: the path is a folder, so the
    /// rename fails after the data was written) leaves no temporary file and says which path.
    #[test]
    fn a_file_is_replaced_whole_or_not_at_all() {
        let d = dir("atomic");
        let out = d.join("results.json");
        std::fs::write(&out, b"old results").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(write_atomic(&out, b"new"), Ok(()));
        assert_eq!(std::fs::read(&out).ok().as_deref(), Some(&b"new"[..]));
        let folder = d.join("taken");
        std::fs::create_dir_all(folder.join("inside")).unwrap_or_else(|e| panic!("{e}"));
        let err = write_atomic(&folder, b"x").err().unwrap_or_default();
        assert!(
            err.starts_with(&format!("cannot write {}", folder.display())),
            "{err}"
        );
        let mut names = leftovers(&d);
        names.sort();
        assert_eq!(names, ["results.json", "taken"], "no temporary file left");
        let _ = std::fs::remove_dir_all(&d);
    }
}
