package dev.weightlift.operator.plan.sim;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.PlanException;
import dev.weightlift.operator.plan.Prediction;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The fleet simulator: {@code simulate.sh FLEET.yaml|DIR ...} prints, per fleet, the plan and the
 * predicted time per stage with and without the three-stage overlap, next to checkpoint-engine's
 * published figures when the fleet file carries them, and ends with one table over all fleets.
 */
public final class SimulateMain {

    private static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private SimulateMain() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            System.err.println("usage: simulate.sh FLEET.yaml|FLEET.json|DIR ...");
            System.exit(2);
        }
        List<FleetSimulator.Result> results = new ArrayList<>();
        for (Path file : files(args)) {
            FleetSpec fleet;
            try {
                fleet = MAPPER.readValue(file.toFile(), FleetSpec.class);
            } catch (IOException e) {
                System.err.println(file + ": " + e.getMessage());
                System.exit(1);
                return;
            }
            try {
                FleetSimulator.Result result = FleetSimulator.simulate(fleet);
                results.add(result);
                print(System.out, file, result);
            } catch (PlanException e) {
                System.err.println(file + ": " + e.getMessage());
                System.exit(1);
            }
        }
        table(System.out, results);
    }

    private static List<Path> files(String[] args) throws IOException {
        List<Path> files = new ArrayList<>();
        for (String arg : args) {
            Path path = Path.of(arg);
            if (Files.isDirectory(path)) {
                try (Stream<Path> list = Files.list(path)) {
                    list.filter(p -> p.toString().matches(".*\\.(ya?ml|json)")).sorted().forEach(files::add);
                }
            } else {
                files.add(path);
            }
        }
        return files;
    }

    private static void print(PrintStream out, Path file, FleetSimulator.Result r) {
        FleetSpec f = r.fleet();
        out.printf(Locale.ROOT, "== %s (%s)%n", f.name(), file.getFileName());
        out.printf(Locale.ROOT, "%d nodes x %d GPUs, %d NICs per node, setup %.2f s (not in the plan summaries,"
                        + " added to the comparison lines and the table); %s%n", f.nodes(), f.gpusPerNode(),
                f.nicsPerNode(), f.setupSeconds(), f.bandwidths());
        out.println(r.broadcast().summary());
        if (r.p2p() != null) {
            out.println(r.p2p().summary());
            Plan ce = r.p2pCheckpointEngine();
            out.printf(Locale.ROOT, "P2P, checkpoint-engine's assignment vs Weightlift's: %d vs %d rounds, %d vs %d"
                            + " receiver links; with setup: two-stage %.2f vs %.2f s, three-stage %.2f vs %.2f s%n",
                    ce.rounds(), r.p2p().rounds(), ce.traffic().receiverLinkBytes().size(),
                    r.p2p().traffic().receiverLinkBytes().size(),
                    f.setupSeconds() + ce.prediction().twoStageSeconds(),
                    f.setupSeconds() + r.p2p().prediction().twoStageSeconds(),
                    f.setupSeconds() + ce.prediction().threeStageSeconds(),
                    f.setupSeconds() + r.p2p().prediction().threeStageSeconds());
        }
        if (f.published() != null) {
            FleetSpec.Published p = f.published();
            double predicted = f.setupSeconds() + r.broadcast().prediction().twoStageSeconds();
            out.printf(Locale.ROOT, "published (%s): broadcast %.2f s with %.2f GiB buckets; predicted for"
                            + " checkpoint-engine's schedule %.2f s (%+.0f%%); Weightlift three-stage %.2f s%n",
                    p.source(), p.broadcastSeconds(), p.bucketGiB(), predicted,
                    100 * (predicted - p.broadcastSeconds()) / p.broadcastSeconds(),
                    f.setupSeconds() + r.broadcast().prediction().threeStageSeconds());
        }
        out.println();
    }

    private static void table(PrintStream out, List<FleetSimulator.Result> results) {
        out.println("| fleet | bucket GiB | load s | broadcast s | reload s | serial s | two-stage s | three-stage s"
                + " | published s | P2P two-stage s (CE assignment) | P2P three-stage s | published P2P s |");
        out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for (FleetSimulator.Result r : results) {
            FleetSpec f = r.fleet();
            Prediction b = r.broadcast().prediction();
            double setup = f.setupSeconds();
            String published = f.published() == null ? "" : fmt(f.published().broadcastSeconds());
            String publishedP2p = f.published() == null || f.published().p2pSeconds() == 0 ? ""
                    : fmt(f.published().p2pSeconds());
            String ceP2p = r.p2pCheckpointEngine() == null ? ""
                    : fmt(setup + r.p2pCheckpointEngine().prediction().twoStageSeconds());
            String wlP2p = r.p2p() == null ? "" : fmt(setup + r.p2p().prediction().threeStageSeconds());
            out.printf(Locale.ROOT, "| %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", f.name(),
                    r.broadcast().sizing().bucketBytes() / (double) (1L << 30), fmt(b.loadSeconds()),
                    fmt(b.broadcastSeconds()), fmt(b.reloadSeconds()), fmt(setup + b.serialSeconds()),
                    fmt(setup + b.twoStageSeconds()), fmt(setup + b.threeStageSeconds()), published, ceP2p, wlP2p,
                    publishedP2p);
        }
    }

    private static String fmt(double seconds) {
        return String.format(Locale.ROOT, "%.2f", seconds);
    }
}
