#!/usr/bin/env bash
# Multi-process testing with torchrun (GPUs, or gloo on CPU-only machines).
#   bash tools/dist_train.sh CONFIG CHECKPOINT NPROC [test.py args...]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT environment variables.
set -euo pipefail
if [[ $# -lt 3 ]]; then echo "usage: $0 CONFIG CHECKPOINT NPROC [args...]" >&2; exit 2; fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON=${PYTHON:-python}
[[ -x "$root/.venv/bin/python" && -z "${VIRTUAL_ENV:-}" ]] && PYTHON="$root/.venv/bin/python"
PYTHONPATH="$root:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$root/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
