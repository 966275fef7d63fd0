#!/usr/bin/env bash
# The lint of .ci/run and of the pre-commit hooks (.pre-commit-config.yaml): flake8, isort, yapf and codespell, with
# the settings of setup.cfg, from the pinned set in the project's environment (no network needed).
#   bash tools/lint.sh          check; exits non-zero and prints what is wrong
#   bash tools/lint.sh --fix    sort the imports and format the code in place (flake8 and codespell only report)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. tools/setup_env.sh > /dev/null
PATHS=(videoalign tools tests demo configs setup.py)
status=0
if [ "${1:-}" = "--fix" ]; then
    "$PYTHON" -m isort "${PATHS[@]}"
    "$PYTHON" -m yapf --in-place --recursive --parallel "${PATHS[@]}"
else
    "$PYTHON" -m isort --check-only --diff "${PATHS[@]}" || status=1
    "$PYTHON" -m yapf --diff --recursive --parallel "${PATHS[@]}" || status=1
fi
"$PYTHON" -m flake8 "${PATHS[@]}" || status=1
"$(dirname "$PYTHON")/codespell" "${PATHS[@]}" docs README.md model_zoo.md || status=1
if [ "$status" -ne 0 ]; then
    echo "lint: problems found (bash tools/lint.sh --fix formats; flake8 and codespell findings are fixed by hand)" >&2
else
    echo "lint: flake8, isort, yapf and codespell found nothing"
fi
exit "$status"
