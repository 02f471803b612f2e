#!/usr/bin/env bash
# Host-backend pipeline throughput into a real engine process, next to the memcpy bound of the same run.
# Usage: agent/bench/pipeline.sh [hidden vocab layers slotMiB rounds]   (defaults: 2048 4096 28 64 7, ~0.5 GiB;
# 64 MiB buckets: what the planner gives a checkpoint this small)
# Last line: ratio=R (median of paired ratios pipeline-with-overlap / memcpy bound).
set -euo pipefail
cd "$(dirname "$0")/../.."
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
# compile and build-classpath in one reactor run, so the agent's sibling modules resolve to their classes
mvn -B -q -pl agent -am test-compile dependency:build-classpath -DskipTests -Dmdep.outputFile="$cp_file" \
  -Dmdep.includeScope=test >/dev/null
# The reactor writes one classpath per module into the same file; the agent's is the last one.
classpath=$(tail -n 1 "$cp_file")
cd agent
exec java -Dweightlift.python="${WEIGHTLIFT_PYTHON:-/usr/bin/python3}" -Dlogback.configurationFile=bench/logback.xml \
  -cp "target/test-classes:target/classes:$classpath" dev.weightlift.agent.pipeline.PipelineBenchmark "$@"
