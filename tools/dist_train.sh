#!/usr/bin/env bash
# Distributed training: tools/dist_train.sh CONFIG GPUS [train.py options]
# GPUS processes on this node (with no CUDA, GPUS CPU processes on gloo). Multi-node: NNODES, NODE_RANK,
# MASTER_ADDR and PORT as in mmaction2.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [train.py options]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

# exec: the launcher replaces this shell, so a signal to the script reaches torchrun (which passes it to the ranks)
PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} exec \
"$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" --master_port="$PORT" "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
