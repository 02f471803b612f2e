#!/usr/bin/env bash
# Planner benchmark: a 100k-tensor, 1 TB checkpoint over 256 GPUs (32 nodes x 8). Prints the plan, the
# times of each phase after JIT warm-up, and as its last line plan_ms=T (load assignment + broadcast plan).
# Usage: operator/bench/plan.sh     (JAVA_OPTS are passed to java)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
run_main dev.weightlift.operator.plan.sim.PlanBenchmark "$@"
