#!/usr/bin/env bash
# The production build of the page: installs what is missing (web/build/tools.sh), then
# `trunk build --release` makes dist/ (wasm-opt, precompressed assets, the wasm budget check:
# web/build/postbuild.mjs), linted by clippy on the way. Run by tests/run-all.sh, web/serve.sh
# and the GitHub Pages workflow (.github/workflows/pages.yml), so all three build the same thing.
set -euo pipefail
# shellcheck source=web/build/tools.sh
source "$(dirname "$0")/tools.sh"
cd "$repo_root"
need_page_tools
need_lint_tools
# Clippy lints the workspace's crates while they compile (-D warnings), always: the builds of
# web/serve.sh, tests/run-all.sh and the Pages workflow then share cargo's fingerprints (a
# different rustc wrapper would rebuild every crate of ours) and wasm-opt's cache.
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER
trunk build --release "$@"
