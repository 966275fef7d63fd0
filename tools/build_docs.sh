#!/usr/bin/env bash
# Build the documentation site into docs/_build/html (open docs/_build/html/index.html), warnings as errors.
# Sets up the environment as tools/run_tests.sh does, and installs requirements/docs.txt into it once.
# Every page is read again on each run (-E), so that no warning hides in a saved environment; extra arguments go to
# sphinx-build (e.g. -j 2).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. tools/setup_env.sh
DOCS_STAMP="$VENV/.videoalign-docs-installed"
want="$(sha256sum requirements/docs.txt | cut -d' ' -f1)"
if [ "$want" != "$(cat "$DOCS_STAMP" 2>/dev/null || true)" ] || ! "$PYTHON" -c 'import sphinx, myst_parser, furo' 2>/dev/null; then
    echo "build_docs: installing requirements/docs.txt into $VENV"
    "$PYTHON" -m pip install --disable-pip-version-check -q -r requirements/docs.txt
    echo "$want" > "$DOCS_STAMP"
fi
exec "$PYTHON" -m sphinx -W --keep-going -E -b html docs docs/_build/html "$@"
