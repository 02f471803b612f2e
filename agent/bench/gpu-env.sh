# Sourced by the GPU scripts: unpacks the Java runtime from .device (made by agent/bench/gpu-pack.sh) and
# defines jv, which runs a class of the agent with the CUDA and NCCL libraries that torch uses.
set -euo pipefail
[[ -x /tmp/jre/bin/java ]] || tar -xzf .device/jre17.tgz -C /tmp
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
NV=$(python3 -c "import nvidia; print(list(nvidia.__path__)[0])")
OUT=${OUT:-$(mktemp -d)}
jv() {
  /tmp/jre/bin/java -Xmx8g -Dorg.bytedeco.javacpp.cachedir=/tmp/jcpp \
    -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.maxBytes=0 \
    -Dorg.bytedeco.javacpp.platform.linkpath="$NV/nccl/lib:$NV/cu13/lib" -Dweightlift.python=python3 \
    -cp '.device/lib/*' "$@"
}
jtest() {
  /tmp/jre/bin/java -Xmx4g -Dorg.bytedeco.javacpp.cachedir=/tmp/jcpp \
    -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.maxBytes=0 \
    -Dorg.bytedeco.javacpp.platform.linkpath="$NV/nccl/lib:$NV/cu13/lib" -Dweightlift.python=python3 \
    -cp '.device/test/classes:.device/test/lib/*:.device/lib/*' GpuTestRunner "$@"
}
# value KEY FILE: the last KEY=value of FILE
value() { grep -o "^$1=[0-9.]*" "$2" | tail -1 | cut -d= -f2; }
