#!/usr/bin/env bash
# GPU check of the checkpoint-engine protocol: torch itself unpickles the exact bytes the Java agent sends,
# rebuilds the shared buffer zero-copy with rebuild_cuda_tensor and checks every byte.
#
# On the CPU machine, once:   ../shared/device/pack.sh agent
# On the GPU machine (carry [".device"]), from the repository root:
#   bash agent/bench/gpu-checkpoint-engine.sh [SIZE_BYTES]
# Three processes: a torch producer (cudaMalloc + raw cudaIpcMemHandle, like the agent's CUDA backend),
# the Java PickleFilesMain writing the messages for that handle, a torch consumer playing the engine worker.
set -euo pipefail
size=${1:-$((64 * 1024 * 1024))}
work=${OUT:-$(mktemp -d)}/checkpoint-engine
mkdir -p "$work"
echo "$size" > "$work/size.txt"
[[ -x /tmp/jre/bin/java ]] || tar -xzf .device/jre17.tgz -C /tmp
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

python3 agent/bench/gpu_checkpoint_engine.py produce "$work" "$size" &
producer=$!
for _ in $(seq 600); do [[ -f "$work/device.txt" ]] && break; kill -0 "$producer" || exit 1; sleep 0.1; done
[[ -f "$work/device.txt" ]] || { echo "the producer wrote no handle" >&2; kill "$producer"; exit 1; }

/tmp/jre/bin/java -cp '.device/lib/*' dev.weightlift.agent.engine.checkpointengine.PickleFilesMain \
  "$work/handle.bin" "$(cat "$work/gpu.txt")" "$size" "$(cat "$work/device.txt")" "$work"
python3 agent/bench/gpu_checkpoint_engine.py consume "$work" || { kill "$producer"; exit 1; }
wait "$producer"
echo "checkpoint-engine protocol on $(cat "$work/gpu.txt"): OK"
