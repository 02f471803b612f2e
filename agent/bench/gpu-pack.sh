#!/usr/bin/env bash
# Packs what the GPU scripts need into .device/ (ignored by git; carry it): a Java 17 runtime, the agent jar
# with its runtime jars (.device/lib), and its test classes with JUnit and a runner (.device/test).
# Builds with the reactor only (no install). Usage, from the repository root: agent/bench/gpu-pack.sh
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
mkdir -p .device
if [[ ! -f .device/jre17.tgz ]]; then
  jdk=${JDK_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
  tmp=$(mktemp -d)
  "$jdk/bin/jlink" --add-modules java.base,jdk.unsupported,java.logging,java.management,java.naming,java.net.http,jdk.httpserver,java.xml \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$tmp/jre"
  tar -C "$tmp" -czf .device/jre17.tgz jre
  rm -rf "$tmp"
fi
mvn -q -B -o -Dstyle.color=never -DskipTests -pl agent package
rm -rf .device/lib .device/test && mkdir -p .device/lib .device/test/lib
mvn -q -B -o -Dstyle.color=never -pl agent org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$root/.device/lib"
mvn -q -B -o -Dstyle.color=never -pl agent org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=test -DoutputDirectory="$root/.device/test/lib"
cp agent/target/weightlift-agent-*.jar .device/lib/
for jar in .device/lib/*.jar; do rm -f ".device/test/lib/$(basename "$jar")"; done
find .device/lib -name '*-linux-arm64*' -o -name '*-linux-ppc64le*' -o -name '*-windows-*' -o -name '*-macosx-*' | xargs -r rm -f
cp -r agent/target/test-classes .device/test/classes
launcher=$(ls ~/.m2/repository/org/junit/platform/junit-platform-launcher/1.14.1/junit-platform-launcher-1.14.1.jar)
cp "$launcher" .device/test/lib/
javac -d .device/test/classes -cp ".device/test/lib/*" agent/bench/GpuTestRunner.java
du -sh .device | sed 's/^/packed: /'
