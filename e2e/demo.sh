#!/usr/bin/env bash
# The local demo: builds what it needs, starts a fleet on this machine (mock Kubernetes API, the operator,
# 4 agent JVMs on the host backend with 2 fake GPUs each, 8 test engines in Python), generates a checkpoint,
# applies a WeightUpdate with a live progress bar, prints the final status and checks every byte in every
# engine. Exit status 0 only on success. Logs stay in the work directory it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${WEIGHTLIFT_PYTHON:-/usr/bin/python3}
echo "demo: building (mvn -q -DskipTests package)"
mvn -B -q -Dstyle.color=never -DskipTests -pl e2e -am package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt \
  2>&1 | sed "s/\x1b\[[0-9;]*m//g"
work=$(mktemp -d "${TMPDIR:-/tmp}/weightlift-demo.XXXXXX")
echo "demo: work directory $work"
exec java -Xmx768m -XX:+UseSerialGC -Dweightlift.log.file="$work/operator.log" \
  -cp "e2e/target/classes:$(cat e2e/target/classpath.txt)" dev.weightlift.e2e.DemoMain "$work" "$python" agent/python
