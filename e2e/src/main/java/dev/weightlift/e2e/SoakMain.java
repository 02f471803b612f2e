package dev.weightlift.e2e;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.status.ConditionFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The soak run ({@code e2e/soak.sh N}): N consecutive WeightUpdates of a one-node, one-engine fleet on the host
 * backend, each a new version of a small checkpoint. Prints p50/p99 of the update time (apply to Succeeded as the
 * status shows it) and the agent's resident memory after the first update and after the last (every 50
 * updates also its open descriptors and host store bytes, read after a full GC in the agent). Exits 1 at the
 * first update that does not succeed.
 *
 * <p>Arguments: N, work directory, Python with torch, directory of the {@code weightlift_engine} package.
 */
public final class SoakMain {

    static final TinyCheckpoint.Shape SHAPE = new TinyCheckpoint.Shape(512, 128, 2);
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private SoakMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: SoakMain N WORK_DIR PYTHON PYTHON_PACKAGE_DIR");
            System.exit(2);
        }
        int n = Integer.parseInt(args[0]);
        Path work = Path.of(args[1]).toAbsolutePath();
        List<Long> millis = new ArrayList<>();
        long rssStart = 0;
        long rssEnd;
        try (LocalFleet fleet = LocalFleet.start(new LocalFleet.Options(1, 1, SHAPE, work, args[2], Path.of(args[3]).toAbsolutePath(),
                System.getProperty("java.class.path")))) {
            String node = fleet.pods().get(0).node();
            String previous = null;
            for (int i = 1; i <= n; i++) {
                String version = "soak-" + i;
                TinyCheckpoint checkpoint = TinyCheckpoint.write(work.resolve("checkpoints").resolve(version), SHAPE, version);
                long start = System.nanoTime();
                fleet.apply(version, version, checkpoint, "1Mi", (int) DEADLINE.toSeconds());
                WeightUpdate done = fleet.await(version, u -> u.getStatus() != null && u.getStatus().getPhase() != null
                        && u.getStatus().getPhase().isTerminal(), DEADLINE.plusSeconds(10));
                millis.add((System.nanoTime() - start) / 1_000_000);
                if (done.getStatus().getPhase() != Phase.Succeeded) {
                    System.out.println("soak: update " + i + " ended " + done.getStatus().getPhase() + ": "
                            + ConditionFactory.find(done.getStatus().getConditions(), "Ready").map(c -> c.getMessage()).orElse("?"));
                    System.exit(1);
                }
                if (previous != null) {
                    fleet.client().resource(fleet.get(previous)).delete();
                    deleteTree(work.resolve("checkpoints").resolve(previous));
                }
                previous = version;
                if (i == 1) {
                    rssStart = fleet.agentUsage(node).residentBytes();
                }
                if (i % 50 == 0) {
                    LocalFleet.AgentUsage usage = fleet.agentUsage(node);
                    System.out.printf(Locale.ROOT, "soak: %d updates, last %d ms, agent rss %d MiB, open fds %d, host store %d B%n", i,
                            millis.get(i - 1), usage.residentBytes() >> 20, usage.fileDescriptors(), usage.hostStoreBytes());
                }
            }
            rssEnd = fleet.agentUsage(node).residentBytes();
        }
        List<Long> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        System.out.printf(Locale.ROOT, "soak: %d updates p50_ms=%d p99_ms=%d rss_start_mb=%d rss_end_mb=%d%n", n, percentile(sorted, 50),
                percentile(sorted, 99), rssStart >> 20, rssEnd >> 20);
        System.exit(0);
    }

    private static long percentile(List<Long> sorted, int p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    private static void deleteTree(Path directory) throws java.io.IOException {
        try (var paths = java.nio.file.Files.walk(directory)) {
            for (Path p : paths.sorted(Collections.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        }
    }
}
