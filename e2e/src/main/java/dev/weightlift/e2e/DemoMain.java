package dev.weightlift.e2e;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.status.ConditionFactory;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * The local demo ({@code e2e/demo.sh}): a fleet of 4 nodes x 2 GPUs (8 engines) on this machine, a generated
 * checkpoint, one WeightUpdate with a live progress bar, the final status, and a check of every byte in every
 * engine. Exits 0 only when the update succeeded and every engine holds the checkpoint exactly.
 *
 * <p>Arguments: work directory, Python with torch, directory of the {@code weightlift_engine} package.
 */
public final class DemoMain {

    static final TinyCheckpoint.Shape SHAPE = new TinyCheckpoint.Shape(4096, 1024, 8);
    static final String VERSION = "step-1";
    static final Duration DEADLINE = Duration.ofSeconds(90);
    static final Duration REDRAW = Duration.ofMillis(250);

    private DemoMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: DemoMain WORK_DIR PYTHON PYTHON_PACKAGE_DIR");
            System.exit(2);
        }
        PrintStream out = System.out;
        Path work = Path.of(args[0]).toAbsolutePath();
        long start = System.nanoTime();
        int status;
        try (LocalFleet fleet = LocalFleet.start(new LocalFleet.Options(4, 2, SHAPE, work, args[1], Path.of(args[2]).toAbsolutePath(),
                System.getProperty("java.class.path")))) {
            out.printf(Locale.ROOT, "demo: fleet up in %.1f s: mock Kubernetes API, operator, 4 agents (host backend, 2 GPUs each), %d engines%n",
                    seconds(start), fleet.pods().size());
            TinyCheckpoint checkpoint = TinyCheckpoint.write(work.resolve("checkpoints").resolve(VERSION), SHAPE, VERSION);
            out.printf(Locale.ROOT, "demo: checkpoint tiny@%s: %.1f MiB in %s%n", VERSION, checkpoint.bytes() / 1048576.0, checkpoint.directory());
            fleet.apply(VERSION, VERSION, checkpoint, "16Mi", (int) DEADLINE.toSeconds());
            out.println("demo: applied WeightUpdate " + VERSION + " (selector app=llm, Broadcast)");
            WeightUpdate done = follow(fleet, out);
            out.println();
            out.println(StatusTable.render(done, Instant.now()));
            if (done.getStatus().getPhase() != Phase.Succeeded) {
                String condition = ConditionFactory.find(done.getStatus().getConditions(), "Ready")
                        .map(c -> "Ready=" + c.getStatus() + " reason=" + c.getReason() + ": " + c.getMessage()).orElse("no Ready condition");
                out.println("demo: " + done.getStatus().getPhase() + " " + condition + " (logs in " + work + ")");
                status = 1;
            } else {
                LocalFleet.Verification check = fleet.verify(checkpoint, VERSION);
                if (!check.ok()) {
                    check.problems().forEach(p -> out.println("demo: mismatch: " + p));
                    out.println("demo: Failed verification: " + check.problems().size() + " problems (logs in " + work + ")");
                    status = 1;
                } else {
                    out.printf(Locale.ROOT, "demo: Succeeded engines=%d version=%s bytes_checked=%d%n", check.engines(), VERSION,
                            check.bytesChecked());
                    status = 0;
                }
            }
        }
        System.exit(status);
    }

    /** Redraws the progress bar (at most every {@link #REDRAW}) until the update ends or the deadline passes. */
    private static WeightUpdate follow(LocalFleet fleet, PrintStream out) throws InterruptedException {
        boolean terminal = System.console() != null;
        Instant applied = Instant.now();
        long end = System.nanoTime() + DEADLINE.plusSeconds(15).toNanos();
        String last = "";
        while (true) {
            WeightUpdate update = fleet.get(VERSION);
            boolean finished = update != null && update.getStatus() != null && update.getStatus().getPhase() != null
                    && update.getStatus().getPhase().isTerminal();
            String bar = StatusTable.bar(update == null ? null : update.getStatus(), Duration.between(applied, Instant.now()));
            if (terminal) {
                out.print("\r" + bar);
            } else if (!bar.equals(last)) {
                out.println(bar);
            }
            last = bar;
            if (finished || System.nanoTime() > end) {
                if (terminal) {
                    out.println();
                }
                return update;
            }
            Thread.sleep(REDRAW.toMillis());
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
