#!/usr/bin/env bash
# Fleet simulator: plans a described fleet with the real planner and prints the predicted time per
# stage, with and without the three-stage overlap, next to checkpoint-engine's published figures.
# Usage: operator/bench/simulate.sh [FLEET.yaml|FLEET.json|DIR ...]   (default: operator/bench/fleets)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [[ $# -eq 0 ]]; then
  set -- "$bench_dir/fleets"
fi
run_main dev.weightlift.operator.plan.sim.SimulateMain "$@"
