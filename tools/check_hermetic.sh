#!/usr/bin/env bash
# Runs the whole suite (`make test`) on a Debian 12 system provisioned differently from this
# one: a throw-away chroot built with Debian's own mmdebstrap, with a set of extra Debian
# packages installed first (-dev headers, man pages in other languages, scipy, ...), which
# change what /usr/include, /usr/share/man, /usr/share/doc and friends hold — the files the
# demo and tokenizer corpora are drawn from. A test whose expectations came from this
# machine's files instead of the files it read fails there.
#
#   sudo tools/check_hermetic.sh [--root DIR] [--extra "PKG ..."] [--keep] [--no-ccache]
#
#   --root DIR     where the chroot goes (default: /var/tmp/mixtera-hermetic); it is created
#                  anew (an existing DIR is removed first) and removed at the end unless --keep
#   --extra "..."  the extra packages (default: EXTRA_PACKAGES below)
#   --keep         keep the chroot (to look around in it: sudo chroot DIR)
#   --no-ccache    build from scratch instead of sharing this machine's ccache (compiler
#                  output only: a hit needs the same preprocessed source and compiler)
#
# What it does: installs mmdebstrap on the host (apt), builds a minimal bookworm system with
# the host's own apt sources, copies the host's CA bundle and npm configuration into it (the
# registries are reached exactly as from the host), installs the extra packages, clones the
# committed HEAD of this repository to the same path inside it (so ccache paths match), and runs
# `make test` there as root, as CI does. Needs root, the network to the package registries,
# ~8 GB of disk and 30-60 minutes on 2 cores. Not part of CI. Exit status: make test's.
set -euo pipefail

ROOT_DIR=/var/tmp/mixtera-hermetic
KEEP=0
USE_CCACHE=1
# Packages this project's set-up does not install and that put files where the corpora look:
# C/C++ headers (/usr/include), man pages (/usr/share/man, also other languages), copyright
# files (/usr/share/doc), Python modules outside the stdlib, and scipy.
EXTRA_PACKAGES="libssl-dev libcurl4-openssl-dev libboost-dev libxml2-dev manpages-dev \
manpages-de manpages-fr manpages-es manpages-it python3-scipy python3-requests mmdebstrap \
iproute2 less"

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT_DIR="$2"; shift 2 ;;
    --extra) EXTRA_PACKAGES="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-ccache) USE_CCACHE=0; shift ;;
    *) echo "usage: $0 [--root DIR] [--extra \"PKG ...\"] [--keep] [--no-ccache]" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "check_hermetic: needs root (mmdebstrap, chroot, mounts)" >&2
  exit 2
fi
REPO="$(cd "$(dirname "$0")/.." && pwd)"
CCACHE_HOST="${CCACHE_DIR:-$HOME/.cache/ccache}"  # shared with the chroot (compiler output only)
SOURCES=/etc/apt/sources.list.d/debian.sources
[ -f "$SOURCES" ] || SOURCES=/etc/apt/sources.list

if ! command -v mmdebstrap >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap
fi

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  if [ "$KEEP" = 0 ]; then rm -rf "$ROOT_DIR"; else echo "check_hermetic: kept $ROOT_DIR" >&2; fi
}
trap cleanup EXIT

rm -rf "$ROOT_DIR"
echo "check_hermetic: building a bookworm chroot in $ROOT_DIR" >&2
mmdebstrap --variant=apt --include=ca-certificates,git,make,sudo,procps bookworm "$ROOT_DIR" "$SOURCES"

# The registries are reached as from the host: its CA bundle and npm configuration.
cp /etc/ssl/certs/ca-certificates.crt "$ROOT_DIR/etc/ssl/certs/ca-certificates.crt"
for f in /etc/npmrc "$HOME/.npmrc" /usr/etc/npmrc; do
  if [ -f "$f" ]; then mkdir -p "$ROOT_DIR$(dirname "$f")"; cp "$f" "$ROOT_DIR$f"; fi
done
for f in /etc/apt/apt.conf.d/*; do
  case "$(basename "$f")" in *proxy*|*farm*|*artifact*) cp "$f" "$ROOT_DIR/etc/apt/apt.conf.d/" ;; esac
done

bind() {  # bind SRC DST
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounted+=("$2")
}
bind /proc "$ROOT_DIR/proc"
bind /sys "$ROOT_DIR/sys"
bind /dev "$ROOT_DIR/dev"
bind /dev/pts "$ROOT_DIR/dev/pts"
mkdir -p "$ROOT_DIR/dev/shm"
if [ "$USE_CCACHE" = 1 ]; then
  mkdir -p "$CCACHE_HOST"
  bind "$CCACHE_HOST" "$ROOT_DIR$CCACHE_HOST"
fi

echo "check_hermetic: extra packages: $EXTRA_PACKAGES" >&2
chroot "$ROOT_DIR" /usr/bin/env DEBIAN_FRONTEND=noninteractive bash -c \
  "apt-get update && apt-get install -y --no-install-recommends $EXTRA_PACKAGES"

mkdir -p "$(dirname "$ROOT_DIR$REPO")"
git clone -q "$REPO" "$ROOT_DIR$REPO"
echo "check_hermetic: make test at $(git -C "$REPO" rev-parse --short HEAD)" >&2
set +e
chroot "$ROOT_DIR" /usr/bin/env -i HOME="$HOME" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 CI=true CCACHE_COMPILERCHECK=content CCACHE_DIR="$CCACHE_HOST" \
  bash -c "cd '$REPO' && make test WERROR=ON"
status=$?
set -e
echo "check_hermetic: make test exited with $status (extra packages: $EXTRA_PACKAGES)" >&2
exit $status
