#!/usr/bin/env bash
# The installed package as a user gets it: a fresh virtual environment with the pinned set and `pip install .` (not
# editable), then, from a folder outside the repository: the model index is found, `mim search videoalign` lists the
# collections, a tiny synthetic set is generated with the packaged tool and `mim train` / `mim test` run a quick-start
# config for one epoch. Used by .ci/run; a few minutes (pip reuses its cache of the first install).
#   VIDEOALIGN_REQUIREMENTS  the pinned set to install (default: requirements/pinned-cpu-py311.txt)
#   KEEP=1                   keep the temporary folder (its path is printed)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQS="${VIDEOALIGN_REQUIREMENTS:-$ROOT/requirements/pinned-cpu-py311.txt}"
TMP="$(mktemp -d -t videoalign-install.XXXXXX)"
if [ "${KEEP:-0}" = 1 ]; then echo "check_install: keeping $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi
BASE_PYTHON="$(command -v python3.11 || command -v python3)"

step() { echo "check_install: $*"; }

step "fresh venv in $TMP/venv, pinned set and a non-editable install of $ROOT"
"$BASE_PYTHON" -m venv "$TMP/venv"
PY="$TMP/venv/bin/python"
MIM="$TMP/venv/bin/mim"
"$PY" -m pip install --disable-pip-version-check -q -r "$REQS"
# build from a copy of the files git knows (tracked, or new and not ignored): nothing built in the checkout is used
mkdir "$TMP/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar -c --null -T -) \
    | tar -x -C "$TMP/src"
"$PY" -m pip install --disable-pip-version-check -q --no-deps "$TMP/src"

mkdir "$TMP/user" && cd "$TMP/user"
export PYTHONWARNINGS=ignore
INFO="$("$PY" - <<'EOF'
import os.path as osp
import videoalign
from videoalign.hub import list_models
from videoalign.hub.index import INDEX_ROOT
assert 'site-packages' in videoalign.__file__, f'videoalign imported from {videoalign.__file__}, not the install'
assert INDEX_ROOT.endswith(osp.join('videoalign', '.mim')), f'the model index is read from {INDEX_ROOT}'
models = list_models()
assert models, 'list_models() is empty in the installed package'
print(f'{len(models)} models, index {INDEX_ROOT}')
EOF
)"
step "list_models(): $INFO"
MIM_ROOT="${INFO##* }"

SEARCH="$("$MIM" search videoalign)"
IDS="$(echo "$SEARCH" | grep '^config id: ' | sed 's/^config id: //')"
for method in xclip aim dualpath efficient_prompt bevt alpro quickstart; do
    grep -q "^$method/" <<< "$IDS" || { echo "check_install: mim search videoalign lists no $method/ config" >&2; exit 1; }
done
step "mim search videoalign: $(echo "$IDS" | wc -l) entries; per collection:" \
    "$(echo "$IDS" | cut -d/ -f1 | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')"

"$PY" "$MIM_ROOT/tools/data/synthetic/generate.py" --out-dir data/synthetic --num-train 4 --num-val 2 --num-test 2 \
    > /dev/null
CONFIG=configs/quickstart/r3d-tiny-8f_synthetic.py
"$MIM" train videoalign "$CONFIG" --work-dir work_dirs/mim_train --cfg-options train_cfg.max_epochs=1 \
    train_dataloader.batch_size=4 > train.log 2>&1 || { tail -30 train.log; exit 1; }
CHECKPOINT="$(cat work_dirs/mim_train/last_checkpoint)"
step "mim train videoalign $CONFIG (1 epoch): $(basename "$CHECKPOINT")"
"$MIM" test videoalign "$CONFIG" --checkpoint "$CHECKPOINT" --work-dir work_dirs/mim_test > test.log 2>&1 \
    || { tail -30 test.log; exit 1; }
step "mim test videoalign: $(grep -o 'test metrics: .*' test.log | cut -c1-120)"
step "OK"
