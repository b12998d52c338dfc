#!/usr/bin/env bash
# Serves the page on http://127.0.0.1:8080 and prints the address to open (on the bundled demo
# model, which works offline). Installs what is missing first (see web/build/tools.sh); a second
# run installs and rebuilds nothing that is up to date.
#
#   bash web/serve.sh              development build, rebuilt when a source file changes
#   bash web/serve.sh --release    the production dist/ (what a static host serves), under the
#                                  sub-path /gradpatch/ with the headers of web/_headers
#   PORT=9000 bash web/serve.sh    another port
set -euo pipefail
# shellcheck source=web/build/tools.sh
source "$(dirname "$0")/build/tools.sh"
cd "$repo_root"

port="${PORT:-8080}"
need_page_tools

if [ "${1:-}" = "--release" ]; then
  # trunk's own cargo fingerprints make this quick when nothing changed; wasm-opt and the
  # compression only run when the wasm did.
  trunk build --release
  say "serving the production build: open http://127.0.0.1:$port/gradpatch/?model=bundled"
  exec node web/build/static-server.mjs dist --port "$port" --prefix /gradpatch/
fi

say "building and serving (the first build takes ~10 min on 2 cores); then open http://127.0.0.1:$port/?model=bundled"
exec trunk serve --port "$port"
