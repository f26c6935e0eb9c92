#!/usr/bin/env bash
# GPU check: AMP + channels_last training through the normal sweep path and the streaming
# loader, and training images/s of published RegNets. Prints numbers; exits non-zero on any
# failure. About 8 minutes on one H200 from a fresh clone, setup included.
#
# Usage, from the repository root on a machine with an NVIDIA GPU:
#   bash benchmarks/gpu_check.sh
# Setup (skipped when .venv/bin/python already imports a CUDA torch):
#   * a system python whose torch sees a GPU: a venv with --system-site-packages reuses it;
#   * otherwise `make setup` with a CUDA torch, e.g.
#       TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" \
#           bash benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
START=$(date +%s)
step() { echo "== $1 ($(( $(date +%s) - START )) s)"; }

has_cuda() { "$1" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; }

step "setup"
if [ -x "$PY" ] && has_cuda "$PY"; then
    echo "using the existing .venv"
elif has_cuda python3; then
    python3 -m venv --system-site-packages .venv
    $PY -m pip install --quiet -e ".[dev]"
    touch .venv/.installed
elif [ -n "${TORCH_SPEC:-}" ]; then
    make setup TORCH_SPEC="$TORCH_SPEC"
else
    echo "no torch with CUDA found: set TORCH_SPEC to a CUDA torch (see the header)" >&2
    exit 1
fi
has_cuda "$PY" || { echo "torch in .venv does not see a GPU" >&2; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"

step "digits sweep on cuda: AMP + channels_last through edftools sweep"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
sed 's/^workers = 2$/workers = 1\ndevice = "cuda"/' recipes/digits_tiny.toml > "$WORK/digits_cuda.toml"
grep -q '^device = "cuda"' "$WORK/digits_cuda.toml"
timeout 300 $PY -m edftools sweep "$WORK/digits_cuda.toml" --store "$WORK/s.duckdb" \
    --n 6 --workers 2 --no-progress
timeout 60 $PY -m edftools sql --store "$WORK/s.duckdb" \
    "SELECT status, count(*) AS n, min(error) AS min_error, max(device) AS device,
            round(avg(train_seconds), 2) AS seconds FROM runs GROUP BY status"
OK=$($PY -m edftools sql --store "$WORK/s.duckdb" --format csv \
    "SELECT count(*) FROM runs WHERE status = 'ok' AND device LIKE 'cuda%'" | tail -1)
[ "$OK" = "6" ] || { echo "digits sweep: $OK of 6 runs ok on cuda" >&2; exit 1; }

step "streaming ImageFolder on cuda"
timeout 300 $PY benchmarks/gpu_check.py stream

step "RegNet training images/s on random data"
timeout 300 $PY benchmarks/gpu_check.py regnets

step "done"
