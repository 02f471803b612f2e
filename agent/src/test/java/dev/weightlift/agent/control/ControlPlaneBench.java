package dev.weightlift.agent.control;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.HubConfig;
import dev.weightlift.operator.hub.UpdateListener;
import dev.weightlift.protocol.Ack;
import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.GpuInfo;
import dev.weightlift.protocol.Register;
import dev.weightlift.protocol.ReleaseCheckpoint;
import dev.weightlift.protocol.RunUpdate;
import dev.weightlift.protocol.UpdateProgress;
import dev.weightlift.protocol.UpdateResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * Control-plane figures on loopback: request round trips through hub and client (JSON, CURVE, threads) against
 * the bound of a bare CURVE DEALER/ROUTER ping-pong measured in the same run; fan-out to many agents; a burst
 * of requests in flight; a flood of progress reports (coalesced by the client); frames rejected (must be 0). Run: agent/bench/control-plane.sh (prints the figures).
 */
public final class ControlPlaneBench {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private ControlPlaneBench() {
    }

    public static void main(String[] args) throws Exception {
        int agents = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        Path keys = Files.createTempDirectory("weightlift-bench-keys");
        CurveKeys.generate(keys);
        System.out.printf("bound: bare CURVE DEALER/ROUTER ping-pong  %s%n", summary(bareRoundTrips(keys, rounds)));
        HubConfig config = HubConfig.of("tcp://127.0.0.1:*", CurveKeys.loadHub(keys));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (AgentHub hub = AgentHub.start(config, meters)) {
            AtomicLong progressEvents = new AtomicLong();
            AtomicLong lastBucket = new AtomicLong();
            hub.addUpdateListener(new UpdateListener() {
                @Override
                public void onProgress(String node, String requestId, UpdateProgress progress) {
                    progressEvents.incrementAndGet();
                    lastBucket.set(progress.bucketsDone());
                }
            });
            List<ControlClient> clients = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < agents; i++) {
                ControlClient client = new ControlClient(ClientConfig.of("bench-" + i, hub.endpoint(),
                        CurveKeys.loadAgent(keys)), report("bench-" + i), new SimpleMeterRegistry());
                client.handle(ReleaseCheckpoint.class, (request, context) -> new Ack());
                client.handle(RunUpdate.class, (request, context) -> {
                    int events = request.work().get("events").intValue();
                    for (int e = 1; e <= events; e++) {
                        context.progress(new UpdateProgress(request.updateId(), e, events, e, events, Map.of()));
                    }
                    return new UpdateResult(request.updateId(), true, List.of(), null, Map.of());
                });
                client.start();
                clients.add(client);
            }
            for (ControlClient client : clients) {
                if (!client.awaitRegistrations(1, WAIT)) {
                    throw new IllegalStateException("an agent did not register within " + WAIT);
                }
            }
            System.out.printf("registration of %d agents: %.1f ms%n", agents, (System.nanoTime() - start) / 1e6);

            long[] single = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                long t = System.nanoTime();
                hub.request("bench-0", new ReleaseCheckpoint("m", "1"), WAIT).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                single[i] = System.nanoTime() - t;
            }
            System.out.printf("hub -> agent -> hub request round trip     %s%n", summary(single));

            int fanRounds = Math.max(1, rounds / 10);
            long[] fan = new long[fanRounds];
            for (int i = 0; i < fanRounds; i++) {
                long t = System.nanoTime();
                List<CompletableFuture<Ack>> all = new ArrayList<>();
                for (int a = 0; a < agents; a++) {
                    all.add(hub.request("bench-" + a, new ReleaseCheckpoint("m", "1"), WAIT));
                }
                CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                fan[i] = System.nanoTime() - t;
            }
            System.out.printf("fan-out to %d agents, all answered         %s%n", agents, summary(fan));

            int burst = rounds * 5;
            long t = System.nanoTime();
            List<CompletableFuture<Ack>> inFlight = new ArrayList<>();
            for (int i = 0; i < burst; i++) {
                inFlight.add(hub.request("bench-" + (i % agents), new ReleaseCheckpoint("m", "1"), WAIT));
            }
            CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            double burstSeconds = (System.nanoTime() - t) / 1e9;
            System.out.printf("%d requests in flight at once: %.2f s = %.0f requests/s%n", burst, burstSeconds,
                    burst / burstSeconds);

            int events = 20_000;
            t = System.nanoTime();
            hub.request("bench-0", new RunUpdate("bench", JsonNodeFactory.instance.objectNode().put("events", events)),
                    WAIT).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            System.out.printf("%d progress reports from a handler: %d sent (coalesced), last %d, in %.1f ms%n",
                    events, progressEvents.get(), lastBucket.get(), (System.nanoTime() - t) / 1e6);
            var rejected = meters.find("weightlift.hub.rejected").counters();
            System.out.printf("frames the hub rejected: %.0f%n",
                    rejected.stream().mapToDouble(c -> c.count()).sum());
            clients.forEach(ControlClient::close);
        }
    }

    private static long[] bareRoundTrips(Path keys, int rounds) throws Exception {
        CurveKeys.HubKeys hub = CurveKeys.loadHub(keys);
        CurveKeys.AgentKeys agent = CurveKeys.loadAgent(keys);
        try (ZContext context = new ZContext(1)) {
            ZMQ.Socket router = context.createSocket(SocketType.ROUTER);
            router.setCurveServer(true);
            router.setCurveSecretKey(hub.serverSecret());
            router.bind("tcp://127.0.0.1:*");
            ZMQ.Socket dealer = context.createSocket(SocketType.DEALER);
            dealer.setCurveServerKey(agent.serverPublic());
            dealer.setCurvePublicKey(agent.agentPublic());
            dealer.setCurveSecretKey(agent.agentSecret());
            dealer.connect(router.getLastEndpoint());
            byte[] payload = new byte[120];
            byte[] identity = waitForIdentity(dealer, router);
            long[] times = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                long t = System.nanoTime();
                router.send(identity, ZMQ.SNDMORE);
                router.send(payload, 0);
                dealer.recv(0);
                dealer.send(payload, 0);
                router.recv(0);
                router.recv(0);
                times[i] = System.nanoTime() - t;
            }
            return times;
        }
    }

    private static byte[] waitForIdentity(ZMQ.Socket dealer, ZMQ.Socket router) {
        dealer.send("hello", 0);
        byte[] identity = router.recv(0);
        router.recv(0);
        return identity;
    }

    private static String summary(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return String.format("n=%d p50=%.3f ms p99=%.3f ms max=%.3f ms", sorted.length,
                sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6,
                sorted[sorted.length - 1] / 1e6);
    }

    private static AgentReport report(String node) {
        return new AgentReport() {
            @Override
            public Register registration() {
                AgentState state = state();
                return new Register(node, "bench", "host", "127.0.0.1", 7200, "/run/weightlift", state.gpus(),
                        List.of(), state);
            }

            @Override
            public AgentState state() {
                return new AgentState(List.of(new GpuInfo(0, "GPU-" + node, 80L << 30, 70L << 30)), List.of(),
                        List.of(), List.of(), 0, 0);
            }
        };
    }
}
