#!/usr/bin/env bash
# The soak run: N consecutive WeightUpdates (default 500) of a one-node fleet on the host backend (mock Kubernetes
# API, the operator in-process, one agent JVM, one test engine), a small checkpoint per version. Last line:
#   soak: N updates p50_ms=… p99_ms=… rss_start_mb=… rss_end_mb=…
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
python=${WEIGHTLIFT_PYTHON:-/usr/bin/python3}
mvn -B -q -Dstyle.color=never -DskipTests -pl e2e -am package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
work=$(mktemp -d "${TMPDIR:-/tmp}/weightlift-soak.XXXXXX")
echo "soak: $n updates, work directory $work"
exec java -Xmx512m -XX:+UseSerialGC -Dweightlift.log.file="$work/operator.log" \
  -cp "e2e/target/classes:$(cat e2e/target/classpath.txt)" dev.weightlift.e2e.SoakMain "$n" "$work" "$python" agent/python
