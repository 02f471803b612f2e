#!/usr/bin/env bash
# P2P benchmark: a holder agent process (child JVM) exposes pinned host buffers over UCX; this process reads
# them with one-sided gets into a staging buffer, and, in the same run, reads the same bytes from the same
# holder process as a plain TCP stream (the bound). Every byte of the first run of each is checked.
# The last line is ratio=R: the median over the runs of P2P / TCP stream within each run. Arguments go to the program:
# --mib M (default 1024) --buffers B (4) --runs N (7) --chunk-mib C (32) --in-flight F (8).
# UCX picks its transports (shared memory between processes of one host, RDMA, TCP); UCX_TLS=tcp forces TCP.
set -euo pipefail
cd "$(dirname "$0")/../.."
# compile and build-classpath in one reactor run, so the agent's sibling modules resolve to their classes
mvn -B -q -pl agent -am compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath \
  -Dmdep.includeScope=runtime >/dev/null
exec java -Xmx512m -cp "agent/target/classes:$(cat agent/target/bench.classpath)" \
  dev.weightlift.agent.bench.P2pBench "$@"
