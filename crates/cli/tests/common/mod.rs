//! Helpers shared by the CLI's end-to-end tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the `gradpatch` binary built for these tests.
pub fn gradpatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradpatch"))
        .args(args)
        .output()
        .expect("gradpatch runs")
}

/// A fresh directory for one test of this process.
pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gradpatch-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
