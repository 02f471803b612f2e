#!/usr/bin/env bash
# One H200 (nvidia-h200): the cuda backend's tests on the GPU, the pinned H2D bound, a real model through
# the agent's pipeline (logits bit-identical), then a CHECKPOINT (default 16Gi) update from pinned host
# memory into an engine process through the native protocol and CUDA IPC (the agent's node pipeline), every
# byte checked, measured against that bound; beside it the protocol-free reference (CudaUpdateBench).
# Ends with ratio=pipeline update/pinned-H2D.
# Usage (GPU machine, repository root, .device carried): agent/bench/gpu-update.sh [CHECKPOINT] [BUCKET]
source agent/bench/gpu-env.sh
total=${1:-16Gi}
bucket=${2:-1Gi}
echo "== cuda backend tests on the GPU"
jtest .device/test/classes 'dev\.weightlift\.agent\.device\.cuda\..*' 2>&1 | tee "$OUT/update-tests.txt" || echo "GPU TESTS FAILED"
echo "== bounds"
jv dev.weightlift.agent.bench.CudaBoundsBench --bytes 4Gi --reps 3 2>&1 | tee "$OUT/update-bounds.txt"
bound=$(value h2d_1gpu_GBps "$OUT/update-bounds.txt")
echo "== real model: transformers model from a config, safetensors -> agent -> engine with other weights"
model=$(mktemp -d)
python3 agent/bench/make_model.py "$model" > "$model/config.json"
jv dev.weightlift.agent.bench.CudaModelCheck --dir "$model" --engine agent/bench/engine_consumer.py --bucket 16Mi 2>&1 \
  | tee "$OUT/update-model.txt" || echo "MODEL CHECK FAILED"
echo "== reference without protocol: $total in $bucket buckets, raw IPC commands"
jv dev.weightlift.agent.bench.CudaUpdateBench --rank 0 --ranks 1 --gpu 0 --total "$total" --bucket "$bucket" \
  --engine agent/bench/engine_consumer.py --reps 3 --bound-GBps "$bound" 2>&1 | tee "$OUT/update-bench.txt"
echo "== pipeline: $total in $bucket buckets, native protocol, into one engine process"
jv dev.weightlift.agent.bench.PipelineGpuBench --rank 0 --ranks 1 --gpu 0 --total "$total" --bucket "$bucket" \
  --engine agent/bench/engine_consumer.py --reps 3 --bound-GBps "$bound" 2>&1 | tee "$OUT/update-pipeline.txt"
echo "reference_ratio=$(value ratio "$OUT/update-bench.txt")"
echo "ratio=$(value ratio "$OUT/update-pipeline.txt")"
