#!/usr/bin/env bash
# Two H200s (nvidia-h200-x2): gpu-broadcast-n.sh on a CHECKPOINT (default 32Gi) that each engine holds whole
# and checks every byte of, with the protocol-free reference (CudaUpdateBench) beside the pipeline.
# Usage (GPU machine, repository root, .device carried): agent/bench/gpu-broadcast.sh [CHECKPOINT] [BUCKET]
# Environment: REFERENCE=0 skips the reference; RETAIN=true as in gpu-broadcast-n.sh.
export GPUS=2 SAMPLE=0 REFERENCE=${REFERENCE:-1}
exec "$(dirname "$0")/gpu-broadcast-n.sh" "${1:-32Gi}" "${2:-1Gi}"
