#!/usr/bin/env bash
# Create (or refresh) the course's virtual environment in .venv.
#
# Why not a plain `pip install -e .`? On our machines pip is configured with a local folder that
# holds a CPU-only torch 2.13.0 wheel, while the only torchvision 0.28.0 wheel is a CUDA build;
# that mix fails at `import torchvision` ("operator torchvision::nms does not exist",
# pytorch/vision#9085). So the matching pair is installed together from the package index with
# the local configuration ignored. The CUDA build runs fine on CPU.
# Idempotent: does nothing when .venv already matches pyproject.toml and this script.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
stamp="$VENV/.labkit-env"
want=$(cat pyproject.toml tools/setup_env.sh | sha256sum | cut -c1-16)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c "import torchvision" 2>/dev/null; then
    exit 0
fi
echo "labkit: setting up $VENV (python: $PYTHON) ..."
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"

# One resolver run, index only: the torch/torchvision pair, the course package and its pins
# (dev: the tests; docs: the website build and its browser test).
PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_EXTRA_INDEX_URL= \
    "$VENV/bin/python" -m pip install -q --progress-bar off -e ".[dev,docs]"

"$VENV/bin/python" - <<'PY'
import torch, torchvision
from torchvision.ops import nms  # the operator that breaks on a mismatched pair
print(f"labkit: torch {torch.__version__}, torchvision {torchvision.__version__} import cleanly")
PY
echo "$want" > "$stamp"
