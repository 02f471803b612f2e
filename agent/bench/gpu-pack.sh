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
  strip --strip-unneeded "$tmp/jre/lib/server/libjvm.so" 2>/dev/null || true
  tar -C "$tmp" -czf .device/jre17.tgz jre
  rm -rf "$tmp"
fi
rm -rf .device/lib .device/test && mkdir -p .device/lib .device/test/lib
# one reactor invocation, so the agent's sibling modules resolve to their freshly built jars
copy="org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"
mvn -q -B -o -Dstyle.color=never -DskipTests -pl agent -am package $copy -DincludeScope=runtime \
  -DoutputDirectory="$root/.device/lib"
cp agent/target/weightlift-agent-*.jar .device/lib/
find .device/lib -name '*-linux-arm64*' -o -name '*-linux-ppc64le*' -o -name '*-windows-*' -o -name '*-macosx-*' | xargs -r rm -f
cp -r agent/target/test-classes .device/test/classes
# JUnit alone (the GPU tests need nothing else from the test scope): the versions the parent POM pins
m2=${MAVEN_REPO:-$HOME/.m2/repository}
junit=$(sed -n "s:.*<junit.version>\(.*\)</junit.version>.*:\1:p" pom.xml)
platform=1.${junit#5.}
for jar in org/junit/jupiter/junit-jupiter-api/$junit org/junit/jupiter/junit-jupiter-engine/$junit \
  org/junit/platform/junit-platform-commons/$platform org/junit/platform/junit-platform-engine/$platform \
  org/junit/platform/junit-platform-launcher/$platform org/opentest4j/opentest4j/1.3.0 org/apiguardian/apiguardian-api/1.1.2; do
  cp "$m2/$jar"/*.jar .device/test/lib/
done
javac -d .device/test/classes -cp ".device/test/lib/*" agent/bench/GpuTestRunner.java
du -sh .device | sed 's/^/packed: /'
