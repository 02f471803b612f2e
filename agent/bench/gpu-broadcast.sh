#!/usr/bin/env bash
# Two H200s (nvidia-h200-x2): the bounds (pinned H2D on both GPUs at once, NCCL broadcast GPU0->GPU1),
# then two agent processes, each owning half of a CHECKPOINT (default 32Gi), update two engine processes
# (one per GPU) through the agent's node pipeline (NCCL broadcast, CUDA IPC, native protocol), every byte
# checked on both; once on checkpoint-engine's schedule (overlap off) and once overlapped; beside it the
# protocol-free reference (CudaUpdateBench). Ends with ratio=pipeline update/aggregate-H2D.
# Usage (GPU machine, repository root, .device carried): agent/bench/gpu-broadcast.sh [CHECKPOINT] [BUCKET]
# Environment: REFERENCE=0 skips the protocol-free reference; RETAIN=true keeps the pipeline's buffers
# between updates (PipelineOptions.retainBuffers).
source agent/bench/gpu-env.sh
total=${1:-32Gi}
bucket=${2:-1Gi}
echo "== bounds"
jv dev.weightlift.agent.bench.CudaBoundsBench --bytes 4Gi --reps 3 2>&1 | tee "$OUT/broadcast-bounds.txt"
bound=$(value h2d_2gpu_aggregate_GBps "$OUT/broadcast-bounds.txt")
# two_ranks CLASS NAME: rank 1 in the background, rank 0 in front; every byte checked on both engines
two_ranks() {
  local id
  id=$(mktemp -u /tmp/nccl-id.XXXX)
  local common=(--ranks 2 --id-file "$id" --total "$total" --bucket "$bucket" --engine agent/bench/engine_consumer.py
    --schedules serial,overlap --reps 2 --bound-GBps "$bound" "${@:3}")
  jv "dev.weightlift.agent.bench.$1" --rank 1 --gpu 1 "${common[@]}" > "$OUT/$2-rank1.txt" 2>&1 &
  local rank1=$!
  jv "dev.weightlift.agent.bench.$1" --rank 0 --gpu 0 "${common[@]}" 2>&1 | tee "$OUT/$2-rank0.txt"
  wait $rank1 || { echo "rank 1 failed:"; tail -30 "$OUT/$2-rank1.txt"; return 1; }
  grep -h "mismatched_words" "$OUT/$2-rank1.txt"
}
if [[ ${REFERENCE:-1} != 0 ]]; then
  echo "== reference without protocol: $total in $bucket buckets, two agents -> two engines"
  two_ranks CudaUpdateBench broadcast-reference || echo "REFERENCE FAILED"
  echo "reference_ratio=$(value ratio "$OUT/broadcast-reference-rank0.txt")"
fi
echo "== pipeline: $total in $bucket buckets, two agents -> two engines, native protocol"
two_ranks PipelineGpuBench broadcast-pipeline --retain-buffers "${RETAIN:-false}"
echo "nccl_broadcast_GBps=$(value nccl_broadcast_GBps "$OUT/broadcast-bounds.txt")"
echo "serial_GBps=$(value pipeline_serial_GBps "$OUT/broadcast-pipeline-rank0.txt")"
echo "overlap_over_serial=$(value overlap_over_serial "$OUT/broadcast-pipeline-rank0.txt")"
echo "ratio=$(value ratio "$OUT/broadcast-pipeline-rank0.txt")"
