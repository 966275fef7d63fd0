#!/usr/bin/env bash
# Create the virtual environment if it is missing and install videoalign into it, once.
# Source it (". tools/setup_env.sh") to get $PYTHON; the second time it only checks a stamp and installs nothing.
#   VIDEOALIGN_VENV  where the environment lives (default: .venv in the repository)
#   VIDEOALIGN_REQUIREMENTS  the pinned set to install (default: requirements/pinned-cpu-py311.txt)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VIDEOALIGN_VENV:-$ROOT/.venv}"
REQS="${VIDEOALIGN_REQUIREMENTS:-$ROOT/requirements/pinned-cpu-py311.txt}"
STAMP="$VENV/.videoalign-installed"

if [ ! -x "$VENV/bin/python" ]; then
    BASE_PYTHON="$(command -v python3.11 || command -v python3 || true)"
    if [ -z "$BASE_PYTHON" ]; then
        echo "setup_env: no python3.11 (or python3) on PATH" >&2
        exit 1
    fi
    echo "setup_env: creating $VENV with $("$BASE_PYTHON" --version)"
    "$BASE_PYTHON" -m venv "$VENV"
fi
PYTHON="$VENV/bin/python"

# what the installed environment depends on: the pinned set, the runtime ranges and setup.py
want="$(cat "$REQS" "$ROOT/requirements/runtime.txt" "$ROOT/requirements/tests.txt" "$ROOT/setup.py" \
        | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    echo "setup_env: installing $(basename "$REQS") and videoalign into $VENV (a few minutes the first time)"
    "$PYTHON" -m pip install --disable-pip-version-check -q -r "$REQS"
    "$PYTHON" -m pip install --disable-pip-version-check -q --no-deps -e "$ROOT"
    echo "$want" > "$STAMP"
else
    echo "setup_env: $VENV is up to date, nothing to install"
fi
export PYTHON
