#!/usr/bin/env bash
# Regenerate data/caffe/ golden files with REAL Caffe (not for CI): builds/uses the bullseye chroot,
# runs make_goldens.py inside it, copies the results into data/caffe/ and registers them.
#   usage (as root, from the repo root): tools/caffe_reference/make_goldens.sh [/tmp/caffe-root]
set -euo pipefail
ROOT="${1:-/tmp/caffe-root}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-python}"
bash "$REPO/tools/caffe_reference/build_root.sh" "$ROOT"
WORK="$ROOT/tmp/golden_work"; rm -rf "$WORK"; mkdir -p "$WORK/out"
cp "$REPO/tools/caffe_reference/make_goldens.py" "$WORK/"
PYTHONPATH="$REPO" "$PY" "$REPO/tools/caffe_reference/export_inputs.py" "$WORK"
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2
chroot "$ROOT" python3 /tmp/golden_work/make_goldens.py /tmp/golden_work/out /tmp/golden_work/mnist_subset.npz
mkdir -p "$REPO/data/caffe"
cp "$WORK"/out/* "$REPO/data/caffe/"
PYTHONPATH="$REPO" "$PY" "$REPO/tools/caffe_reference/register_goldens.py"
