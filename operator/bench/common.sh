# Shared by simulate.sh and plan.sh: compile the operator module when its sources changed, then
# run a main class with the module's runtime classpath (no mvn install).
set -euo pipefail
bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$bench_dir/../.." && pwd)"
target="$repo_root/operator/target"
cp_file="$target/bench-classpath.txt"

ensure_built() {
  if [[ ! -s "$cp_file" ]] || [[ -n "$(find "$repo_root/operator/src/main" "$repo_root/operator/pom.xml" \
        "$repo_root/pom.xml" -newer "$cp_file" -print -quit)" ]]; then
    (cd "$repo_root" && mvn -B -q -Dstyle.color=never -pl operator -am compile dependency:build-classpath \
        -Dmdep.includeScope=runtime -Dmdep.outputFile="$cp_file") >&2
    touch "$cp_file"
  fi
}

run_main() {
  ensure_built
  exec java ${JAVA_OPTS:-} -cp "$target/classes:$(cat "$cp_file")" "$@"
}
