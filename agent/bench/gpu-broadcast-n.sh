#!/usr/bin/env bash
# N GPUs of one machine (N = the visible GPUs: 2 on nvidia-h200-x2, 8 on nvidia-h200-x8): the bounds (pinned
# H2D on all N GPUs at once, NCCL broadcast GPU0 -> the others), then N agent processes, each owning 1/N of
# a generated CHECKPOINT (every N-th bucket), update N engine processes (one per GPU) through the agent's
# node pipeline (NCCL broadcast from each bucket's owner, CUDA IPC, native protocol); once on
# checkpoint-engine's schedule (overlap off) and once overlapped, best of REPS each. Prints the update times,
# the per-stage waits of every rank, and ends with ratio=pipeline update/aggregate-H2D.
# CHECKPOINT defaults to Qwen3-235B-A22B in BF16 (470 GB), or less when this host's memory is smaller
# (MemAvailable * 0.85 minus 6 GiB per rank for the JVMs, engines and CUDA contexts; printed).
# With SAMPLE > 0 (default 8Gi) each engine keeps what a tensor-parallel engine would (slice RANK of every
# tensor) and about SAMPLE bytes of whole tensors, and checks every byte of both (the N slices together
# cover every byte of the checkpoint); SAMPLE=0: each engine holds and checks the whole checkpoint.
# Usage (GPU machine, repository root, .device carried): agent/bench/gpu-broadcast-n.sh [CHECKPOINT|auto] [BUCKET]
# Environment: GPUS (the visible ones), SAMPLE (8Gi), REPS (2), REFERENCE=1 adds the protocol-free reference (CudaUpdateBench; needs
# SAMPLE=0), RETAIN=true keeps the pipeline's buffers between updates (PipelineOptions.retainBuffers).
source agent/bench/gpu-env.sh
gpus=${GPUS:-$(python3 -c "import torch; print(torch.cuda.device_count())")}
bucket=${2:-1Gi}
sample=${SAMPLE:-8Gi}
reps=${REPS:-2}
qwen3_235b_bf16=470000000000
bytes() { python3 -c "import sys; s=sys.argv[1]; u={'Ki':1<<10,'Mi':1<<20,'Gi':1<<30,'Ti':1<<40}; print(int(s[:-2])*u[s[-2:]] if s[-2:] in u else int(s))" "$1"; }
avail=$(($(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) * 1024))
fits=$((avail / 100 * 85 - gpus * (6 << 30)))
if [[ ${1:-auto} == auto ]]; then
  total=$((qwen3_235b_bf16 < fits ? qwen3_235b_bf16 : fits))
  why="Qwen3-235B-A22B BF16 is $qwen3_235b_bf16 bytes; this host fits $fits"
else
  total=$(bytes "$1")
  why="given; Qwen3-235B-A22B BF16 is $qwen3_235b_bf16 bytes, this host fits $fits"
fi
total=$((total / (1 << 20) * (1 << 20)))
echo "gpus=$gpus mem_available_bytes=$avail checkpoint_bytes=$total ($(python3 -c "print(f'{$total/1e9:.1f} GB, {$total/2**30:.1f} GiB')"); $why) bucket=$bucket sample=$sample"
(( total <= fits )) || { echo "checkpoint of $total bytes does not fit this host's memory ($fits bytes usable)"; exit 1; }
echo "== bounds"
jv dev.weightlift.agent.bench.CudaBoundsBench --bytes 4Gi --reps 3 2>&1 | tee "$OUT/broadcast-bounds.txt"
bound=$(value "h2d_${gpus}gpu_aggregate_GBps" "$OUT/broadcast-bounds.txt")
# all_ranks CLASS NAME ARGS...: ranks 1..N-1 in the background, rank 0 in front, one GPU each
all_ranks() {
  local id pids=() rank failed=0
  id=$(mktemp -u /tmp/nccl-id.XXXX)
  local common=(--ranks "$gpus" --id-file "$id" --total "$total" --bucket "$bucket" --engine agent/bench/engine_consumer.py
    --schedules serial,overlap --reps "$reps" --bound-GBps "$bound" "${@:3}")
  for ((rank = 1; rank < gpus; rank++)); do
    jv "dev.weightlift.agent.bench.$1" --rank "$rank" --gpu "$rank" "${common[@]}" > "$OUT/$2-rank$rank.txt" 2>&1 &
    pids+=($!)
  done
  jv "dev.weightlift.agent.bench.$1" --rank 0 --gpu 0 "${common[@]}" 2>&1 | tee "$OUT/$2-rank0.txt" || failed=1
  for ((rank = 1; rank < gpus; rank++)); do
    wait "${pids[rank - 1]}" || { echo "rank $rank failed:"; tail -30 "$OUT/$2-rank$rank.txt"; failed=1; }
    grep -h "schedule=\|pinned_host" "$OUT/$2-rank$rank.txt" | sed 's/ engine_buckets_bytes="[0-9 ]*"//; s/gpu=GPU-[0-9a-f-]* //'
  done
  return $failed
}
if [[ ${REFERENCE:-0} != 0 ]]; then
  echo "== reference without protocol: $total bytes in $bucket buckets, $gpus agents -> $gpus engines"
  all_ranks CudaUpdateBench broadcast-reference || echo "REFERENCE FAILED"
  echo "reference_ratio=$(value ratio "$OUT/broadcast-reference-rank0.txt")"
fi
echo "== pipeline: $total bytes in $bucket buckets, $gpus agents -> $gpus engines, native protocol"
all_ranks PipelineGpuBench broadcast-pipeline --retain-buffers "${RETAIN:-false}" --sample "$sample"
echo "h2d_aggregate_GBps=$bound"
echo "nccl_broadcast_GBps=$(value nccl_broadcast_GBps "$OUT/broadcast-bounds.txt")"
echo "overlap_s=$(value pipeline_overlap_s "$OUT/broadcast-pipeline-rank0.txt") serial_s=$(value pipeline_serial_s "$OUT/broadcast-pipeline-rank0.txt")"
echo "serial_GBps=$(value pipeline_serial_GBps "$OUT/broadcast-pipeline-rank0.txt")"
echo "overlap_over_serial=$(value overlap_over_serial "$OUT/broadcast-pipeline-rank0.txt")"
echo "ratio=$(value ratio "$OUT/broadcast-pipeline-rank0.txt")"
