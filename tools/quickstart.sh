#!/usr/bin/env bash
# The README's first command: set up, generate the synthetic dataset, train the quick-start video-text model on CPU,
# test it, print its top-1 accuracy on the validation and test splits, and score free-text labels on a test clip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. tools/setup_env.sh

CONFIG=configs/quickstart/clip-r3d-tiny-8f_synthetic.py
WORK_DIR=work_dirs/quickstart

"$PYTHON" tools/data/synthetic/generate.py --out-dir data/synthetic
"$PYTHON" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --seed 0
CHECKPOINT="$(cat "$WORK_DIR/last_checkpoint")"

run_test() {  # run_test SPLIT: test CHECKPOINT on one split, print its top-1
    local split=$1 line
    line="$("$PYTHON" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR/test_$split" \
        --cfg-options "test_dataloader.dataset.ann_file=data/synthetic/synthetic_${split}_list_videos.txt" \
        | grep '^test metrics: ')"
    echo "$line" | "$PYTHON" -c "import json, sys; m = json.loads(sys.stdin.read()[len('test metrics: '):]); \
print(f'$split top-1: {m[\"acc/top1\"]:.4f}  (top-5 {m[\"acc/top5\"]:.4f})')"
}
echo "quickstart: checkpoint $CHECKPOINT"
run_test val
run_test test

# open vocabulary: the model scores any text; here a clip of "move_left" against five labels
"$PYTHON" demo/demo.py data/synthetic/videos/test/move_left_0000.mp4 --config "$CONFIG" --checkpoint "$CHECKPOINT" \
    --labels "move left" "move right" "grow" "rotate clockwise" "disappear" 2> /dev/null
