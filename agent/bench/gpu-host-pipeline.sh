#!/usr/bin/env bash
# The host-backend pipeline benchmark (agent/bench/pipeline.sh) on the GPU machine's host, a server with 16
# cores, from the packed .device (agent/bench/gpu-pack.sh): same program, same arguments, same last line ratio=R.
# Usage, on the GPU machine from the repository root: agent/bench/gpu-host-pipeline.sh [hidden vocab layers slotMiB rounds]
source "$(dirname "$0")/gpu-env.sh"
cd agent  # where pipeline.sh runs it: the engine's Python package is python/ from here
/tmp/jre/bin/java -Xmx8g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.maxBytes=0 \
  -Dweightlift.python=python3 -Dlogback.configurationFile=bench/logback.xml \
  -cp '../.device/test/classes:../.device/lib/*' dev.weightlift.agent.pipeline.PipelineBenchmark "$@"
