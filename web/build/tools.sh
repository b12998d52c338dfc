# Installs what building and testing the page needs, once. Sourced by web/serve.sh and
# tests/run-all.sh; each `need_*` function does nothing when the tool is already there at the
# pinned version, and otherwise says in one line what it installs. Every install is atomic
# (cargo install and npm ci only put a tool in place when it is complete), so a failed or
# interrupted run leaves nothing half-installed behind for the next one.

# shellcheck shell=bash
TRUNK_VERSION=0.21.14 # trunk 0.22 needs a newer rustc than this toolchain (1.95)
# The threaded CPU build of the worker needs `-Z build-std` (a std compiled with atomics), which
# only a nightly toolchain has: this one, pinned, with its std's source (web/build/threads.sh);
# build-std compiles the wasm32 std from that source, so no wasm32 std is downloaded.
THREADS_TOOLCHAIN=nightly-2026-05-20

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Where `cargo install` puts tools (CARGO_HOME when set, as rustup's installer would).
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

say() { echo "gradpatch: $*" >&2; }

fail_install() {
  say "error: could not install $1. Is the package registry reachable? Nothing was left half-installed; run the command again once it is."
  exit 1
}

need_wasm_target() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown && return
  say "installing the Rust target wasm32-unknown-unknown (rustup, ~1 min)"
  rustup target add wasm32-unknown-unknown >/dev/null || fail_install "the wasm32 target"
}

need_lint_tools() {
  local missing=()
  cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
  cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]} (rustup)"
  rustup component add "${missing[@]}" >/dev/null || fail_install "${missing[*]}"
}

# Tools are built with optimisation level 1 and no LTO: they only call other programs, and this
# makes their first install several times faster on 2 cores. They build in their own target
# folder so they never invalidate the project's builds.
install_tool() {
  local what="$1" minutes="$2"
  shift 2
  say "installing $what (cargo install, first run only: ~$minutes min on 2 cores)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo_root/target}/tools" \
    cargo install --quiet "$@" || fail_install "$what"
}

need_trunk() {
  trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$" && return
  # No TLS, no update check: the build is offline (Trunk.toml) and the server is local.
  install_tool "trunk $TRUNK_VERSION" 5 --locked trunk --version "$TRUNK_VERSION" --no-default-features
}

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock. It is built --locked from a
# lockfile of ours (web/build/wasm-bindgen-cli-VERSION.lock): the one it ships pins a
# webpki-roots release the registry no longer serves. Its source is the registry's .crate,
# checked against the SHA-256 the registry's index lists for it. For another version: its
# `cksum` from https://index.crates.io/wa/sm/wasm-bindgen-cli below, and as the lockfile the
# crate's own Cargo.lock after `cargo update -p <unserved crate> --precise <a served version>`.
WASM_BINDGEN_CLI_SHA256_0_2_130=c37f6904387d19a319525c74af274c73912f3871c35555aa49f3ea64ebb2fc7a
need_wasm_bindgen() {
  local version lock sha src
  version=$(grep -A1 '^name = "wasm-bindgen"$' "$repo_root/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
  wasm-bindgen --version 2>/dev/null | grep -q " $version\$" && return
  lock="$repo_root/web/build/wasm-bindgen-cli-$version.lock"
  sha="WASM_BINDGEN_CLI_SHA256_${version//./_}"
  sha="${!sha:-}"
  if [ ! -f "$lock" ] || [ -z "$sha" ]; then
    say "error: Cargo.lock asks for wasm-bindgen $version, but web/build has no lockfile (wasm-bindgen-cli-$version.lock) or SHA-256 (tools.sh) for wasm-bindgen-cli $version: add both (how: the comment above need_wasm_bindgen in web/build/tools.sh)"
    exit 1
  fi
  src="$(mktemp -d)"
  if ! curl -fsSL --retry 2 -o "$src/cli.crate" "https://static.crates.io/crates/wasm-bindgen-cli/wasm-bindgen-cli-$version.crate"; then
    rm -rf "$src"
    fail_install "wasm-bindgen-cli $version (its source from the registry)"
  fi
  if ! echo "$sha  $src/cli.crate" | sha256sum --check --status; then
    rm -rf "$src"
    say "error: the registry's wasm-bindgen-cli-$version.crate is not the file whose SHA-256 tools.sh pins ($sha): refused"
    exit 1
  fi
  tar -xzf "$src/cli.crate" -C "$src" && cp "$lock" "$src/wasm-bindgen-cli-$version/Cargo.lock" || { rm -rf "$src"; fail_install "wasm-bindgen-cli $version"; }
  (install_tool "wasm-bindgen-cli $version" 3 --locked --path "$src/wasm-bindgen-cli-$version")
  local rc=$?
  rm -rf "$src"
  [ "$rc" -eq 0 ] || exit "$rc"
}

# `npm ci` in a folder with a package-lock.json, again only when the lockfile changed.
need_npm() {
  local dir stamp
  case "$1" in /*) dir="$1" ;; *) dir="$repo_root/$1" ;; esac
  stamp="$dir/node_modules/.gradpatch-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then return; fi
  command -v npm >/dev/null 2>&1 || { say "error: npm not found: install Node.js 20 or newer (Debian: apt-get install nodejs npm)"; exit 1; }
  say "installing the npm packages of $1 (npm ci)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || { rm -rf "$dir/node_modules"; fail_install "the npm packages of $1"; }
  cp "$dir/package-lock.json" "$stamp"
}

# Debian packages: installed when running as root (CI, containers), else named in an error.
need_debian() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "error: missing system packages: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})"
    exit 1
  fi
  say "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; } || fail_install "${missing[*]}"
}

# Clippy lints the workspace's crates while they compile (clippy-driver as the rustc wrapper, as
# `cargo clippy` does, -D warnings): one compile serves lint and test natively, lint and deploy
# for wasm32, instead of a second type-check of everything (~20 min on 2 cores from scratch).
# Every build of the project uses it, so they share cargo's fingerprints and wasm-opt's cache
# (a different wrapper would rebuild every crate of ours).
lint_while_compiling() {
  need_lint_tools
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
  RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)"
  export RUSTC_WORKSPACE_WRAPPER
}

need_threads_toolchain() {
  local sysroot
  sysroot="$(rustup run "$THREADS_TOOLCHAIN" rustc --print sysroot 2>/dev/null)" &&
    [ -d "$sysroot/lib/rustlib/src/rust/library" ] && return
  say "installing the Rust toolchain $THREADS_TOOLCHAIN with rust-src (rustup, ~2 min): the threaded CPU build of the worker"
  rustup toolchain install "$THREADS_TOOLCHAIN" --profile minimal --component rust-src \
    >/dev/null || fail_install "the toolchain $THREADS_TOOLCHAIN"
}

# What building the page needs (serve and test).
need_page_tools() {
  need_wasm_target
  need_threads_toolchain
  need_trunk
  need_wasm_bindgen
  need_npm web/build
}
