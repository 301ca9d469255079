#!/usr/bin/env bash
# Set up .venv (idempotent) and run the lint and the whole test suite.
#   bash tools/run_tests.sh [extra pytest args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/setup_env.sh
echo "[run_tests] ruff"
.venv/bin/ruff check .
echo "[run_tests] pytest"
.venv/bin/python -m pytest tests -q "$@"
