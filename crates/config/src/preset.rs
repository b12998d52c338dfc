//! The models the page offers by name: Hugging Face checkpoints pinned by revision, size and
//! SHA-256 (the worker refuses any other bytes), with what a download and a run cost.

use gradpatch_terms::{Keyed, Stage, StudyOptions};

/// A file of a preset whose bytes are known: the worker refuses anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinnedFile {
    pub name: &'static str,
    pub bytes: u64,
    /// Lower-case hex.
    pub sha256: &'static str,
}

/// A pinned checkpoint on Hugging Face.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `openai-community/gpt2`: 12 layers, 12 heads, d_model 768.
    Gpt2Small,
    /// `distilbert/distilgpt2`: 6 layers, 12 heads, d_model 768.
    DistilGpt2,
    /// `openai-community/gpt2-medium`: 24 layers, 16 heads, d_model 1024.
    Gpt2Medium,
}

/// The tokenizer every GPT-2 checkpoint shares (one file, pinned once).
const GPT2_TOKENIZER: PinnedFile = PinnedFile {
    name: "tokenizer.json",
    bytes: 1_355_256,
    sha256: "8414cab924d8b9b33013f0d221c5862f365ee9be39c5c2bfae8a5a9e970478a6",
};

const SMALL_FILES: [PinnedFile; 3] = [
    PinnedFile {
        name: "config.json",
        bytes: 665,
        sha256: "0daed7749b4f02b8f76240d5444551d7b08712dab4d0adb8239c56ba823bb7b4",
    },
    GPT2_TOKENIZER,
    PinnedFile {
        name: "model.safetensors",
        bytes: 548_105_171,
        sha256: "248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707",
    },
];

// Sizes and hashes as public sources list them (../shared/reference/presets/README.md): the
// hubs are unreachable from the project's machines, so they were looked up, not downloaded.
const DISTIL_FILES: [PinnedFile; 3] = [
    PinnedFile {
        name: "config.json",
        bytes: 762,
        sha256: "4ec5947c1d59fee6212cdf3b0ec1a53eac02092554c5ff0a733488cbd2c64f3a",
    },
    GPT2_TOKENIZER,
    PinnedFile {
        name: "model.safetensors",
        bytes: 352_824_413,
        sha256: "e1ff18884359fe8beb795a5f414feb85a6ce3d929ad019c0d958c039d2b94a1b",
    },
];

const MEDIUM_FILES: [PinnedFile; 3] = [
    PinnedFile {
        name: "config.json",
        bytes: 718,
        sha256: "ef1a44d889ad1a0acc7731c78134f1b87d2d222f110e97dd10fd4117331caf22",
    },
    GPT2_TOKENIZER,
    PinnedFile {
        name: "model.safetensors",
        bytes: 1_519_984_962,
        sha256: "fc5a354a19255ad494f3d71549390baca1ccf61d1d822b9408971705c687c9cd",
    },
];

/// GPT-2 small's components, what the other presets' costs are scaled from (with its forward
/// pass).
const SMALL_COMPONENTS: f64 = 12.0 * 12.0;

impl Keyed for Preset {
    fn all() -> &'static [Preset] {
        &Preset::ALL
    }

    /// Its value in links (`model=…`); GPT-2 small is the default and is left out.
    fn key(self) -> &'static str {
        match self {
            Preset::Gpt2Small => "gpt2",
            Preset::DistilGpt2 => "distilgpt2",
            Preset::Gpt2Medium => "gpt2-medium",
        }
    }
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Gpt2Small, Preset::DistilGpt2, Preset::Gpt2Medium];

    /// What the page calls it.
    pub fn title(self) -> &'static str {
        match self {
            Preset::Gpt2Small => "GPT-2 small",
            Preset::DistilGpt2 => "DistilGPT-2",
            Preset::Gpt2Medium => "GPT-2 medium",
        }
    }

    /// The repository on Hugging Face.
    pub fn repo(self) -> &'static str {
        match self {
            Preset::Gpt2Small => "openai-community/gpt2",
            Preset::DistilGpt2 => "distilbert/distilgpt2",
            Preset::Gpt2Medium => "openai-community/gpt2-medium",
        }
    }

    /// The commit the preset loads, so the files never change under a link.
    pub fn revision(self) -> &'static str {
        match self {
            Preset::Gpt2Small => "607a30d783dfa663caf39e06633721c8d4cfcd7e",
            Preset::DistilGpt2 => "2290a62682d06624634c1f46a6ad5be0f47f38aa",
            Preset::Gpt2Medium => "6dcaa7a952f72f9298047fd5137cd6e4f05f41da",
        }
    }

    /// The folder its files are downloaded from (the revision in the path).
    pub fn base(self) -> String {
        format!(
            "https://huggingface.co/{}/resolve/{}/",
            self.repo(),
            self.revision()
        )
    }

    /// `repo@revision`: what results files record as the model.
    pub fn name(self) -> String {
        format!("{}@{}", self.repo(), self.revision())
    }

    /// The label of the loaded model: `GPT-2 small (openai-community/gpt2@…)`.
    pub fn label(self) -> String {
        format!("{} ({})", self.title(), self.name())
    }

    pub fn files(self) -> &'static [PinnedFile; 3] {
        match self {
            Preset::Gpt2Small => &SMALL_FILES,
            Preset::DistilGpt2 => &DISTIL_FILES,
            Preset::Gpt2Medium => &MEDIUM_FILES,
        }
    }

    /// Bytes of its weights, what a first load mostly downloads (the tokenizer and config add
    /// 1.4 MB).
    pub fn weights_bytes(self) -> u64 {
        self.files()[2].bytes
    }

    /// Layers, heads per layer and d_model, as published.
    pub fn shape(self) -> (usize, usize, usize) {
        match self {
            Preset::Gpt2Small => (12, 12, 768),
            Preset::DistilGpt2 => (6, 12, 768),
            Preset::Gpt2Medium => (24, 16, 1024),
        }
    }

    /// Parameters one forward pass multiplies by: the blocks (12·d² each) and the unembedding.
    fn forward_params(self) -> f64 {
        let (layers, _, d) = self.shape();
        let d = d as f64;
        layers as f64 * 12.0 * d * d + d * 50_257.0
    }

    /// Rough seconds `n_prompts` take on this model, natively on 2 cores: GPT-2 small's measured
    /// stage times ([`StudyOptions::gpt2_seconds`]) scaled by the forward pass, and activation
    /// patching (one run per component) by the number of components too.
    pub fn cpu_seconds(self, options: &StudyOptions, n_prompts: usize) -> f64 {
        let (layers, heads, _) = self.shape();
        let forward = self.forward_params() / Preset::Gpt2Small.forward_params();
        let components = (layers * heads) as f64 / SMALL_COMPONENTS;
        options.scaled_cpu_seconds(n_prompts, |stage| {
            let per_component = matches!(
                stage,
                Stage::Scores(gradpatch_terms::Method::Ap)
                    | Stage::Positions(gradpatch_terms::Method::Ap)
            );
            if per_component {
                forward * components
            } else {
                forward
            }
        })
    }

    /// The preset whose files live at `base`.
    pub fn at_base(base: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.base() == base)
    }

    /// The preset a results file's `config.model` names: `repo@revision`, alone (what
    /// `gradpatch run --model-name` records) or in the page's label.
    pub fn named(model: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| model == p.name() || model == p.label())
    }
}

/// The pinned file `name` of the preset at `base`, if `base` is a preset's folder.
pub fn pinned(base: &str, name: &str) -> Option<PinnedFile> {
    Preset::at_base(base)?
        .files()
        .iter()
        .find(|f| f.name == name)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_hex(s: &str, len: usize) -> bool {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    #[test]
    fn every_preset_is_pinned_by_revision_size_and_hash() {
        for p in Preset::ALL {
            assert!(is_hex(p.revision(), 40), "{p:?}");
            let base = p.base();
            assert!(base.starts_with("https://huggingface.co/"), "{base}");
            assert!(base.contains(&format!("/{}/resolve/{}/", p.repo(), p.revision())));
            assert_eq!(Preset::at_base(&base), Some(p));
            assert_eq!(Preset::from_key(p.key()), Some(p));
            assert_eq!(Preset::named(&p.name()), Some(p));
            assert_eq!(Preset::named(&p.label()), Some(p));
            let names: Vec<&str> = p.files().iter().map(|f| f.name).collect();
            assert_eq!(
                names,
                ["config.json", "tokenizer.json", "model.safetensors"]
            );
            for f in p.files() {
                assert!(is_hex(f.sha256, 64), "{p:?} {}", f.name);
                assert!(f.bytes > 0);
                assert_eq!(pinned(&base, f.name), Some(*f));
            }
            // Every GPT-2 checkpoint has the same tokenizer file.
            assert_eq!(p.files()[1], GPT2_TOKENIZER);
        }
        assert_eq!(
            pinned(
                "https://huggingface.co/openai-community/gpt2/resolve/main/",
                "config.json"
            ),
            None
        );
        assert_eq!(Preset::from_key("gpt2-large"), None);
        // The weights in f32: about 4 bytes per parameter.
        let mb = |p: Preset| p.files()[2].bytes / 1_000_000;
        assert_eq!(
            [Preset::Gpt2Small, Preset::DistilGpt2, Preset::Gpt2Medium].map(mb),
            [548, 352, 1519]
        );
    }

    #[test]
    fn estimates_scale_with_the_forward_pass_and_patching_with_the_components() {
        let options = StudyOptions::default();
        let small = Preset::Gpt2Small.cpu_seconds(&options, 8);
        assert!((small - options.gpt2_cpu_seconds(8)).abs() < 1e-6 * small);
        let distil = Preset::DistilGpt2.cpu_seconds(&options, 8);
        let medium = Preset::Gpt2Medium.cpu_seconds(&options, 8);
        assert!(
            distil < 0.5 * small && medium > 5.0 * small,
            "{distil} {small} {medium}"
        );
        let none = StudyOptions {
            methods: gradpatch_terms::MethodSet::NONE,
            ..options
        };
        assert_eq!(Preset::Gpt2Medium.cpu_seconds(&none, 8), 0.0);
    }
}
