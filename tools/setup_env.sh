#!/usr/bin/env bash
# Create .venv and install osteo_mm with its pinned stack. Idempotent: when the requirement
# files and setup.py are unchanged since the last successful run, it returns in a second.
#   bash tools/setup_env.sh            # runtime + test dependencies
#   PYTHON=python3.11 bash tools/setup_env.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
venv="$root/.venv"
stamp="$venv/.osteo_mm_setup_stamp"
want="$(cat requirements/*.txt requirements/apt.list setup.py 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "[setup_env] .venv is up to date"
  exit 0
fi
if [[ ! -x "$venv/bin/python" ]]; then
  echo "[setup_env] creating $venv with $($PYTHON --version)"
  "$PYTHON" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --disable-pip-version-check)
"${pip[@]}" -q --upgrade pip wheel
echo "[setup_env] installing pinned stack (first run: several minutes)"
# Every requirements/*.txt is installed (runtime, tests and one file per feature area, each
# saying why its pins are there); requirements/apt.list names Debian packages that tests need.
reqs=()
for f in requirements/*.txt; do reqs+=(-r "$f"); done
"${pip[@]}" -q "${reqs[@]}"
if [[ -f requirements/apt.list ]]; then
  missing=()
  while read -r pkg _; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done < requirements/apt.list
  if (( ${#missing[@]} )); then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      echo "[setup_env] apt-get install ${missing[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "[setup_env] missing Debian packages (install as root): ${missing[*]}" >&2
      exit 1
    fi
  fi
fi
# Install the package itself without re-resolving its (already installed) pins.
"${pip[@]}" --no-deps -e .
"$venv/bin/python" -c "import osteo_mm, mmpretrain, mmcv, torch; print('[setup_env] ok: osteo_mm', osteo_mm.__version__, 'torch', torch.__version__)"
echo "$want" > "$stamp"
