#!/usr/bin/env bash
# Set up .venv (idempotent) and run the whole study end-to-end on the built-in phantoms.
#   bash tools/run_demo.sh [--full] [--work-dir DIR] [--seed S]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/setup_env.sh
exec .venv/bin/python tools/demo.py "$@"
