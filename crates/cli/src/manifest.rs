//! `gradpatch manifest DIR`: writes (or with `--check` verifies) the folder's manifest.json, the
//! size and SHA-256 of each model file, by which the page loads and caches the folder by content.

use std::path::Path;

use gradpatch_model::{Manifest, ManifestFile};

/// The manifest of the model files in `dir` (those present of config.json, tokenizer.json,
/// model.safetensors; the weights and tokenizer are required).
pub fn of_folder(dir: &Path) -> Result<Manifest, String> {
    let mut files = Vec::new();
    for (name, required) in [
        ("config.json", false),
        ("tokenizer.json", true),
        ("model.safetensors", true),
    ] {
        let path = dir.join(name);
        if !path.exists() && !required {
            continue;
        }
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        files.push(ManifestFile {
            name: name.to_string(),
            bytes: bytes.len() as u64,
            sha256: crate::shard::sha256_hex(&bytes),
        });
    }
    Ok(Manifest { files })
}

pub fn to_json(m: &Manifest) -> Result<String, String> {
    serde_json::to_string_pretty(m)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

/// Writes `dir/manifest.json`, or with `check` compares it with the files and says which differs.
pub fn run(dir: &Path, check: bool) -> Result<(), String> {
    let want = of_folder(dir)?;
    let path = dir.join("manifest.json");
    if check {
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let have = Manifest::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        for f in &want.files {
            if have.file(&f.name) != Some(f) {
                return Err(format!(
                    "{} does not match {}: run `gradpatch manifest {}`",
                    path.display(),
                    f.name,
                    dir.display()
                ));
            }
        }
        if have.files.len() != want.files.len() {
            return Err(format!("{} names files the folder lacks", path.display()));
        }
        eprintln!("{} matches its {} files", path.display(), want.files.len());
        return Ok(());
    }
    crate::files::write_atomic(&path, to_json(&want)?.as_bytes())?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
