#!/usr/bin/env bash
# Serves the page on http://127.0.0.1:8080 and prints the address to open (on the bundled demo
# model, which works offline). Installs what is missing first (web/build/tools.sh); a second run
# installs nothing and rebuilds nothing that is up to date.
#
#   bash web/serve.sh              the production build (dist/, as tested and deployed), served
#                                  as a static host would, with the headers of web/_headers
#   bash web/serve.sh --dev        trunk's development server (debug build, rebuilt on change)
#   PORT=9000 bash web/serve.sh    another port
set -euo pipefail
# shellcheck source=web/build/tools.sh
source "$(dirname "$0")/build/tools.sh"
cd "$repo_root"

port="${PORT:-8080}"
need_page_tools

if [ "${1:-}" = "--dev" ]; then
  say "building and serving the development build; then open http://127.0.0.1:$port/#model=bundled"
  exec trunk serve --port "$port"
fi

# Cargo's fingerprints and the wasm-opt cache make this quick when nothing changed.
bash web/build/release.sh
say "open http://127.0.0.1:$port/#model=bundled (Ctrl-C stops the server)"
exec node web/build/static-server.mjs dist --port "$port"
