//! Test support: where the reference data lives and how to read its goldens.
//!
//! The reference data is read only through `GRADPATCH_SHARED` (default: `../shared` beside the
//! repository). It is required: a missing directory fails the test with a message, it never
//! skips.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

/// `$GRADPATCH_SHARED`, or `<repo>/../shared`.
pub fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("GRADPATCH_SHARED") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    assert!(
        dir.join("reference/model-a/goldens.json").is_file(),
        "reference data not found at {} (set GRADPATCH_SHARED to the shared/ directory that holds \
         reference/model-a/goldens.json)",
        dir.display()
    );
    dir
}

pub fn model_a_dir() -> PathBuf {
    shared_dir().join("reference/model-a")
}

pub fn read(path: impl Into<PathBuf>) -> Vec<u8> {
    let path = path.into();
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The goldens' format this code reads (`format_version` in goldens.json, atp_goldens.json and circuit_goldens.json).
pub const GOLDENS_FORMAT: u64 = 1;

/// Parses a goldens file of model-a and checks its format version.
pub fn goldens_file(name: &str) -> Value {
    let path = model_a_dir().join(name);
    let v: Value = serde_json::from_slice(&read(&path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let version = v.get("format_version").and_then(Value::as_u64);
    assert_eq!(
        version,
        Some(GOLDENS_FORMAT),
        "{} has format_version {version:?}; these tests read format {GOLDENS_FORMAT}. Regenerate \
         the goldens with the reference scripts (see reference/model-a/README.md) or update the \
         tests to the new format",
        path.display()
    );
    v
}

/// `reference/model-a/goldens.json`, parsed once per test binary.
pub fn goldens() -> &'static Value {
    static G: OnceLock<Value> = OnceLock::new();
    G.get_or_init(|| goldens_file("goldens.json"))
}

/// `reference/model-a/atp_goldens.json` (attribution patching, per-position head scores),
/// parsed once per test binary.
pub fn atp_goldens() -> &'static Value {
    static G: OnceLock<Value> = OnceLock::new();
    G.get_or_init(|| goldens_file("atp_goldens.json"))
}

/// `reference/model-a/circuit_goldens.json` (node-set and edge-set faithfulness, EAP, EAP-IG,
/// exact edge patching: `reference/CIRCUITS.md`), parsed once per test binary.
pub fn circuit_goldens() -> &'static Value {
    static G: OnceLock<Value> = OnceLock::new();
    G.get_or_init(|| goldens_file("circuit_goldens.json"))
}

/// `reference/model-a/prompts.json`.
pub fn prompts() -> &'static Value {
    static P: OnceLock<Value> = OnceLock::new();
    P.get_or_init(|| {
        serde_json::from_slice(&read(model_a_dir().join("prompts.json")))
            .expect("prompts.json is JSON")
    })
}

/// Follows a `/`-separated path of object keys and list indices.
pub fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('/')
        .fold(v, |v, key| match key.parse::<usize>() {
            Ok(i) if v.is_array() => &v[i],
            _ => v
                .get(key)
                .unwrap_or_else(|| panic!("golden field `{key}` missing in `{path}`")),
        })
}

/// Shape and flattened values of a golden array (`{"shape", "dtype", "data"}` or a plain list).
pub fn array(v: &Value) -> (Vec<usize>, Vec<f64>) {
    let data = v.get("data").unwrap_or(v);
    let mut out = Vec::new();
    flatten(data, &mut out);
    let shape = match v.get("shape") {
        Some(s) => s
            .as_array()
            .expect("shape is a list")
            .iter()
            .map(|x| x.as_u64().expect("shape entries are integers") as usize)
            .collect(),
        None => vec![out.len()],
    };
    (shape, out)
}

fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        Value::Number(n) => out.push(n.as_f64().expect("number")),
        Value::Bool(b) => out.push(f64::from(u8::from(*b))),
        Value::Null => out.push(f64::NAN),
        other => panic!("unexpected golden value {other}"),
    }
}

/// Asserts `|a - b| <= tol` elementwise; names the worst element on failure.
pub fn assert_close(what: &str, actual: &[f32], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let (worst, err) = actual
        .iter()
        .zip(expected)
        .map(|(a, e)| (f64::from(*a) - e).abs())
        .enumerate()
        .fold((0, 0.0f64), |acc, (i, e)| {
            if e > acc.1 || e.is_nan() { (i, e) } else { acc }
        });
    assert!(
        err <= tol,
        "{what}: max abs diff {err:.3e} at index {worst} (got {}, expected {}), tolerance {tol:.1e}",
        actual[worst],
        expected[worst]
    );
}

/// Token id lists of prompt `i` (`clean_token_ids`, `corrupted_token_ids`, `labels`, ...).
pub fn prompt_ids(i: usize, field: &str) -> Vec<u32> {
    at(prompts(), &format!("prompts/{i}/{field}"))
        .as_array()
        .expect("id list")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

/// Zips computed values with their goldens after checking that both have the same length (a
/// plain zip stops at the shorter list, and a missing value would pass unchecked).
pub fn zip_eq<'a, A, B>(
    what: &str,
    computed: &'a [A],
    golden: &'a [B],
) -> std::iter::Zip<std::slice::Iter<'a, A>, std::slice::Iter<'a, B>> {
    assert_eq!(
        computed.len(),
        golden.len(),
        "{what}: {} values computed, {} in the goldens",
        computed.len(),
        golden.len()
    );
    computed.iter().zip(golden)
}
