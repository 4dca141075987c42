#!/usr/bin/env bash
# Build a Debian bullseye root with real CPU Caffe (package python3-caffe) in it, OUTSIDE the repository.
# Caffe left Debian after bullseye; this root is only for regenerating the golden files under
# data/caffe/ (see make_goldens.sh), never for CI. Needs root, a few minutes and ~1.1 GB.
#   usage: sudo tools/caffe_reference/build_root.sh [/tmp/caffe-root]
set -euo pipefail
ROOT="${1:-/tmp/caffe-root}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"   # the mirror our apt sources already use
if [ -x "$ROOT/usr/bin/python3" ] && chroot "$ROOT" python3 -c "import caffe" 2>/dev/null; then
  echo "caffe root already at $ROOT"; exit 0
fi
command -v debootstrap >/dev/null || { apt-get update && apt-get install -y debootstrap; }
rm -rf "$ROOT"
debootstrap --variant=minbase bullseye "$ROOT" "$MIRROR"
mount -t proc proc "$ROOT/proc" 2>/dev/null || true
chroot "$ROOT" apt-get install -y --no-install-recommends python3-caffe python3-h5py
umount "$ROOT/proc" 2>/dev/null || true
chroot "$ROOT" python3 -c "import caffe; print('caffe', caffe.__version__)"
