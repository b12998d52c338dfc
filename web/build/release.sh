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
lint_while_compiling
trunk build --release "$@"
