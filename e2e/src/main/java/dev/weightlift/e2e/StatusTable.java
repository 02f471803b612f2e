package dev.weightlift.e2e;

import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.Progress;
import dev.weightlift.api.v1alpha1.Timings;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.status.ConditionFactory;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Text views of an update for the demo: {@code kubectl get wu}'s columns, the pods, the timings, a progress bar. Pure. */
final class StatusTable {

    private StatusTable() {
    }

    static String render(WeightUpdate update, Instant now) {
        WeightUpdateStatus s = update.getStatus();
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("NAME", "VERSION", "PHASE", "PROGRESS", "READY", "AGE"));
        String ready = ConditionFactory.find(s.getConditions(), "Ready").map(Condition::getStatus).orElse("");
        String created = update.getMetadata().getCreationTimestamp();
        String age = created == null ? "" : Duration.between(Instant.parse(created), now).toSeconds() + "s";
        rows.add(List.of(update.getMetadata().getName(), update.getSpec().getCheckpoint().getVersion(), String.valueOf(s.getPhase()),
                s.getProgress() == null || s.getProgress().getPercent() == null ? "" : s.getProgress().getPercent() + "%", ready, age));
        StringBuilder out = new StringBuilder(table(rows)).append('\n');
        List<List<String>> pods = new ArrayList<>();
        pods.add(List.of("POD", "NODE", "GPUS", "VERSION", "STATE", "MESSAGE"));
        for (PodResult p : s.getPods()) {
            pods.add(List.of(p.getName(), nullToEmpty(p.getNode()), String.join(",", p.getGpus()), nullToEmpty(p.getVersion()),
                    String.valueOf(p.getState()), nullToEmpty(p.getMessage())));
        }
        out.append(table(pods));
        Timings t = s.getTimings();
        if (t != null) {
            out.append(String.format(Locale.ROOT, "%ntimings: load %d ms, gather %d ms, transfer %d ms, reload %d ms, finalize %d ms, total %d ms",
                    zero(t.getLoadMillis()), zero(t.getGatherMillis()), zero(t.getTransferMillis()), zero(t.getReloadMillis()),
                    zero(t.getFinalizeMillis()), zero(t.getTotalMillis())));
        }
        return out.toString();
    }

    /** {@code [#####-----]  52%  33.4/64.1 MiB  12.3 MiB/s  Transferring} */
    static String bar(WeightUpdateStatus status, Duration elapsed) {
        Progress p = status == null ? null : status.getProgress();
        long total = p == null || p.getBytesTotal() == null ? 0 : p.getBytesTotal();
        long done = p == null || p.getBytesDone() == null ? 0 : p.getBytesDone();
        int width = 30;
        int filled = total <= 0 ? 0 : (int) (width * done / total);
        double seconds = Math.max(0.001, elapsed.toMillis() / 1000.0);
        return String.format(Locale.ROOT, "[%s%s] %3d%%  %6.1f/%.1f MiB  %6.1f MiB/s  %s", "#".repeat(filled), "-".repeat(width - filled),
                total <= 0 ? 0 : done * 100 / total, mib(done), mib(total), mib(done) / seconds,
                status == null || status.getPhase() == null ? "Pending" : status.getPhase());
    }

    private static String table(List<List<String>> rows) {
        int[] widths = new int[rows.get(0).size()];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                line.append(String.format(Locale.ROOT, "%-" + (widths[i] + 2) + "s", row.get(i)));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    private static double mib(long bytes) {
        return bytes / (double) (1 << 20);
    }

    private static long zero(Long value) {
        return value == null ? 0 : value;
    }

    private static String nullToEmpty(String value) {
        return value == null ? "" : value;
    }
}
