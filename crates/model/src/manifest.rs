//! `manifest.json` of a model folder: the size and SHA-256 of each of its files. A folder that
//! has one is loaded by content: each file is requested (and cached) under its hash, so a new
//! version of the model can never be taken from the cache entry of an old one, and the bytes
//! are checked against it as they arrive.

use serde::{Deserialize, Serialize};

/// The files a model folder may name, and their size caps.
const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
/// A manifest is a few hundred bytes; anything larger is not one.
pub const MAX_MANIFEST_BYTES: usize = 64 << 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub name: String,
    pub bytes: u64,
    /// Lower-case hex.
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    /// Parses and checks a manifest: known file names, once each, hashes of 64 hex digits.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(format!(
                "manifest.json is {} bytes, more than the {MAX_MANIFEST_BYTES}-byte limit",
                bytes.len()
            ));
        }
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| format!("manifest.json: {e}"))?;
        for (i, f) in m.files.iter().enumerate() {
            if !FILES.contains(&f.name.as_str()) {
                return Err(format!(
                    "manifest.json names {:?}, expected one of {}",
                    f.name,
                    FILES.join(", ")
                ));
            }
            if m.files[..i].iter().any(|g| g.name == f.name) {
                return Err(format!("manifest.json names {} twice", f.name));
            }
            let hex = f.sha256.len() == 64
                && f.sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex {
                return Err(format!(
                    "manifest.json: the sha256 of {} is not 64 lower-case hex digits",
                    f.name
                ));
            }
        }
        Ok(m)
    }

    pub fn file(&self, name: &str) -> Option<&ManifestFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The URL of `name` under `file_url`: its hash in the query, so that the cache holds each
    /// version under its own key.
    pub fn versioned(&self, file_url: &str, name: &str) -> Option<String> {
        self.file(name)
            .map(|f| format!("{file_url}?sha256={}", f.sha256))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "0daed7749b4f02b8f76240d5444551d7b08712dab4d0adb8239c56ba823bb7b4";

    #[test]
    fn manifests_are_checked() {
        let ok =
            format!(r#"{{"files": [{{"name": "config.json", "bytes": 5, "sha256": "{H}"}}]}}"#);
        let m = Manifest::parse(ok.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.file("config.json").map(|f| f.bytes), Some(5));
        assert_eq!(
            m.versioned("https://x/m/config.json", "config.json"),
            Some(format!("https://x/m/config.json?sha256={H}"))
        );
        assert_eq!(
            m.versioned("https://x/m/model.safetensors", "model.safetensors"),
            None
        );
        for (text, why) in [
            (ok.replace("config.json", "../etc"), "names \"../etc\""),
            (ok.replace(H, &H.to_uppercase()), "not 64 lower-case hex"),
            (ok.replace(H, &H[..10]), "not 64 lower-case hex"),
            (ok.replace("\"bytes\"", "\"size\""), "unknown field"),
            (
                ok.replace(
                    "]}",
                    &format!(r#", {{"name": "config.json", "bytes": 5, "sha256": "{H}"}}]}}"#),
                ),
                "twice",
            ),
            (" ".repeat(MAX_MANIFEST_BYTES + 1), "more than the"),
        ] {
            let Err(e) = Manifest::parse(text.as_bytes()) else {
                panic!("accepted {text}")
            };
            assert!(e.contains(why), "{e}");
        }
    }
}
