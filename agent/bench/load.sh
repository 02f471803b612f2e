#!/usr/bin/env bash
# Host store load benchmark: generates a multi-GiB safetensors checkpoint (default 4 GiB in 8 files under
# /tmp/weightlift-load-bench, kept for later runs), loads it from a warm page cache and prints the store's
# throughput next to a plain sequential read of the same files; the last line is ratio=R.
# Arguments go to the program: --dir D --gib G --files F --threads T --runs N.
set -euo pipefail
cd "$(dirname "$0")/../.."
# compile and build-classpath in one reactor run, so the agent's sibling modules resolve to their classes
mvn -B -q -pl agent -am compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath \
  -Dmdep.includeScope=runtime >/dev/null
exec java -Xmx1g -cp "agent/target/classes:$(cat agent/target/bench.classpath)" \
  dev.weightlift.agent.bench.HostStoreLoadBench "$@"
