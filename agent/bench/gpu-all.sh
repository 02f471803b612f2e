#!/usr/bin/env bash
# Every GPU check of the agent in one run on nvidia-h200-x2 (two H200s), each part's output under
# $OUT/<part> and its log in $OUT/<part>.log, then a summary of the figures:
#   update  gpu-update.sh 16Gi 1Gi      (tests on the GPU, real model, one-GPU update vs pinned H2D)
#   bcast   gpu-broadcast.sh 32Gi 1Gi   (two agents -> two engines, serial vs overlap, vs aggregate H2D)
#   bcast2g gpu-broadcast.sh 32Gi 2Gi   (pipeline only, larger buckets)
#   bcast64 gpu-broadcast.sh 64Gi 1Gi   (pipeline only, fixed per-update costs amortised)
#   ce      gpu-checkpoint-engine.sh    (checkpoint-engine protocol: torch unpickles the agent's messages)
# Usage (GPU machine, repository root, .device carried): agent/bench/gpu-all.sh
set -uo pipefail
base=${OUT:-$(mktemp -d)}
part() {
  local name=$1
  shift
  mkdir -p "$base/$name"
  OUT="$base/$name" "$@" > "$base/$name.log" 2>&1
  echo "== $name: exit $?"
}
part update agent/bench/gpu-update.sh 16Gi 1Gi
part bcast agent/bench/gpu-broadcast.sh 32Gi 1Gi
part bcast2g env REFERENCE=0 agent/bench/gpu-broadcast.sh 32Gi 2Gi
part bcast64 env REFERENCE=0 agent/bench/gpu-broadcast.sh 64Gi 1Gi
part ce bash agent/bench/gpu-checkpoint-engine.sh
for name in update bcast bcast2g bcast64 ce; do
  echo "=== $name"
  grep -h "tests_found\|model_\|h2d_\|nccl_broadcast\|schedule=\|_GBps=\|overlap_over\|ratio=\|retained\|consumer: OK\|protocol on\|Exception\|FAILED" \
    "$base/$name.log" | sed 's/ engine_buckets_bytes="[0-9 ]*"//; s/gpu=GPU-[0-9a-f-]* //' | awk '!seen[$0]++' | head -40
done
