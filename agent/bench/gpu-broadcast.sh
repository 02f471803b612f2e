#!/usr/bin/env bash
# Two H200s (nvidia-h200-x2): the bounds (pinned H2D on both GPUs at once, NCCL broadcast GPU0->GPU1),
# then two agent processes, each owning half of a CHECKPOINT (default 32Gi), update two stand-in engine
# processes (one per GPU) through NCCL broadcast and CUDA IPC, every byte checked on both; once on
# checkpoint-engine's schedule (overlap off) and once overlapped. Ends with ratio=update/aggregate-H2D.
# Usage (GPU machine, repository root, .device carried): agent/bench/gpu-broadcast.sh [CHECKPOINT] [BUCKET]
source agent/bench/gpu-env.sh
total=${1:-32Gi}
bucket=${2:-1Gi}
echo "== bounds"
jv dev.weightlift.agent.bench.CudaBoundsBench --bytes 4Gi --reps 3 2>&1 | tee "$OUT/broadcast-bounds.txt"
bound=$(value h2d_2gpu_aggregate_GBps "$OUT/broadcast-bounds.txt")
echo "== update $total in $bucket buckets, two agents -> two engines"
id=$(mktemp -u /tmp/nccl-id.XXXX)
common=(--ranks 2 --id-file "$id" --total "$total" --bucket "$bucket" --engine agent/bench/engine_consumer.py
  --schedules serial,overlap --reps 2 --bound-GBps "$bound")
jv dev.weightlift.agent.bench.CudaUpdateBench --rank 1 --gpu 1 "${common[@]}" > "$OUT/broadcast-rank1.txt" 2>&1 &
rank1=$!
jv dev.weightlift.agent.bench.CudaUpdateBench --rank 0 --gpu 0 "${common[@]}" 2>&1 | tee "$OUT/broadcast-rank0.txt"
wait $rank1 || { echo "rank 1 failed:"; cat "$OUT/broadcast-rank1.txt"; exit 1; }
grep -h "mismatched_words" "$OUT/broadcast-rank1.txt"
echo "nccl_broadcast_GBps=$(value nccl_broadcast_GBps "$OUT/broadcast-bounds.txt")"
echo "overlap_over_serial=$(value overlap_over_serial "$OUT/broadcast-rank0.txt")"
echo "ratio=$(value ratio "$OUT/broadcast-rank0.txt")"
