#!/usr/bin/env bash
# The README's second command: set up (once) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. tools/setup_env.sh
exec "$PYTHON" -m pytest tests "$@"
