package dev.weightlift.agent.control;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.protocol.Ack;
import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.Envelope;
import dev.weightlift.protocol.Heartbeat;
import dev.weightlift.protocol.Message;
import dev.weightlift.protocol.MessageCodec;
import dev.weightlift.protocol.NotRegistered;
import dev.weightlift.protocol.ProtocolException;
import dev.weightlift.protocol.Register;
import dev.weightlift.protocol.Registered;
import dev.weightlift.protocol.ReleaseCheckpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** A hand-driven hub feeding the client garbage: the client rejects it and keeps serving. */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MalformedHubMessagesTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final long SEED = 0xbadf00dL;
    private static final byte[] NODE = "node-f".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path keysDir;

    private final MessageCodec codec = new MessageCodec();

    @Test
    void malformedAndFuzzedFramesAreRejectedWithoutKillingTheClient() throws Exception {
        CurveKeys.generate(keysDir);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (ZContext context = new ZContext(1)) {
            ZMQ.Socket router = context.createSocket(SocketType.ROUTER);
            router.setLinger(0);
            router.setCurveServer(true);
            router.setCurveSecretKey(CurveKeys.loadHub(keysDir).serverSecret());
            router.bind("tcp://127.0.0.1:*");
            ClientConfig config = ClientConfig.of("node-f", router.getLastEndpoint(), CurveKeys.loadAgent(keysDir))
                    .withTimings(Duration.ofSeconds(10), Duration.ofMillis(50), Duration.ofMillis(200));
            try (ControlClient client = new ControlClient(config, report(), meters)) {
                client.handle(ReleaseCheckpoint.class, (request, ctx) -> new Ack());
                client.start();
                Envelope registration = receive(router, Register.class);

                send(router, "not json".getBytes(StandardCharsets.UTF_8));
                send(router, "{\"v\":7,\"type\":\"Registered\",\"id\":\"x\",\"body\":{}}".getBytes(StandardCharsets.UTF_8));
                router.send(NODE, ZMQ.SNDMORE);
                router.send("one".getBytes(StandardCharsets.UTF_8), ZMQ.SNDMORE);
                router.send("two".getBytes(StandardCharsets.UTF_8), 0);
                send(router, codec.encode(new Envelope(registration.id(), new Registered("fake", 60_000))));
                assertTrue(client.awaitRegistrations(1, WAIT));
                assertTrue(meters.get("weightlift.agent.control.rejected").tag("reason", "malformed").counter().count() >= 3);

                List<byte[]> valid = List.of(
                        codec.encode(new Envelope("hb", new Heartbeat(null))),
                        codec.encode(new Envelope("n", new NotRegistered("fuzz"))),
                        codec.encode(new Envelope("r", new ReleaseCheckpoint("llama", "1"))));
                Random random = new Random(SEED);
                for (int i = 0; i < 300; i++) {
                    byte[] frame = valid.get(random.nextInt(valid.size())).clone();
                    for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                        frame[random.nextInt(frame.length)] = (byte) random.nextInt(256);
                    }
                    send(router, frame);
                }
                send(router, codec.encode(new Envelope("final", new ReleaseCheckpoint("llama", "1"))));
                while (true) {
                    Envelope answer = receive(router, Ack.class);
                    if (answer.id().equals("final")) {
                        break;
                    }
                }
            }
        }
    }

    private static void send(ZMQ.Socket router, byte[] frame) {
        router.send(NODE, ZMQ.SNDMORE);
        router.send(frame, 0);
    }

    private Envelope receive(ZMQ.Socket router, Class<? extends Message> type) throws ProtocolException {
        long end = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < end) {
            router.setReceiveTimeOut((int) Math.max(1, (end - System.nanoTime()) / 1_000_000));
            byte[] identity = router.recv(0);
            if (identity == null) {
                break;
            }
            Envelope envelope = codec.decode(router.recv(0));
            if (type.isInstance(envelope.message())) {
                return envelope;
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " from the client within " + WAIT);
    }

    private static AgentReport report() {
        return new AgentReport() {
            @Override
            public Register registration() {
                return new Register("node-f", "s", "host", "127.0.0.1", 7200, "/run/weightlift", List.of(), List.of(),
                        state());
            }

            @Override
            public AgentState state() {
                return new AgentState(List.of(), List.of(), List.of(), List.of(), 0, 0);
            }
        };
    }
}
