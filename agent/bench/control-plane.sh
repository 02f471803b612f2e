#!/usr/bin/env bash
# Control-plane figures on loopback (hub + in-process agents over CURVE): request round trip against a bare
# CURVE ping-pong measured in the same run, fan-out, progress events. Usage: agent/bench/control-plane.sh [AGENTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -pl protocol,operator,agent -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test >/dev/null
cp="agent/target/test-classes:agent/target/classes:operator/target/classes:protocol/target/classes:$(cat agent/target/bench-classpath.txt)"
exec java -cp "$cp" -Dlogback.configurationFile=agent/bench/logback-quiet.xml \
    dev.weightlift.agent.control.ControlPlaneBench "${1:-8}" "${2:-2000}"
