//! ARCHITECTURE.md's table of crates is the rule, checked here against the manifests: every crate
//! is in it, each crate's dependencies on other gradpatch crates are exactly those it names (so a
//! new edge, e.g. the page on the engine, fails until the document says so), and whether a
//! crate links burn is as it states.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn crates() -> BTreeSet<String> {
    std::fs::read_dir(repo().join("crates"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// A crate's row: the crates it may depend on, and its "links burn" cell.
struct Row {
    deps: BTreeSet<String>,
    burn: String,
}

fn table(names: &BTreeSet<String>) -> BTreeMap<String, Row> {
    let text = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        // "| layer | `crate` | holds | depends on | links burn |"
        if cols.len() != 7 || !cols[2].starts_with('`') {
            continue;
        }
        let name = cols[2].trim_matches('`').to_string();
        let deps = cols[4]
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| names.contains(*w))
            .map(str::to_string)
            .collect();
        rows.insert(
            name,
            Row {
                deps,
                burn: cols[5].to_string(),
            },
        );
    }
    rows
}

/// A manifest's normal (not dev) dependencies: gradpatch crates with whether each is optional,
/// and whether burn is a direct dependency.
fn manifest(name: &str) -> (BTreeMap<String, bool>, bool) {
    let path = repo().join("crates").join(name).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut deps, mut burn, mut normal) = (BTreeMap::new(), false, false);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            normal = line.ends_with("dependencies]") && !line.contains("dev-dependencies");
            continue;
        }
        if !normal {
            continue;
        }
        let key: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if key == "burn" {
            burn = true;
        } else if let Some(dep) = key.strip_prefix("gradpatch-") {
            deps.insert(dep.to_string(), line.contains("optional = true"));
        }
    }
    (deps, burn)
}

/// Whether `name` links burn: directly, or through a dependency that is not optional.
fn links_burn(name: &str) -> bool {
    let (deps, burn) = manifest(name);
    burn || deps.iter().any(|(d, optional)| !optional && links_burn(d))
}

#[test]
fn the_crates_depend_on_each_other_as_architecture_md_says() {
    let names = crates();
    let rows = table(&names);
    for name in &names {
        let row = rows
            .get(name)
            .unwrap_or_else(|| panic!("crates/{name} is not in ARCHITECTURE.md's table of crates"));
        let (deps, _) = manifest(name);
        let actual: BTreeSet<String> = deps.keys().cloned().collect();
        assert_eq!(
            actual, row.deps,
            "crates/{name}: its manifest depends on {actual:?}, ARCHITECTURE.md says {:?}",
            row.deps
        );
        let through_feature = deps.iter().any(|(d, optional)| *optional && links_burn(d));
        let expected = match (links_burn(name), through_feature) {
            (true, _) => "yes",
            (false, true) => "with `engine`",
            (false, false) => "no",
        };
        assert_eq!(
            row.burn, expected,
            "crates/{name}: ARCHITECTURE.md says it links burn: {}, the manifests say {expected}",
            row.burn
        );
    }
    for name in rows.keys() {
        assert!(
            names.contains(name),
            "ARCHITECTURE.md lists `{name}`, which is not a crate under crates/"
        );
    }
}
