package dev.weightlift.agent.control;

import dev.weightlift.protocol.Ack;
import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.Register;
import dev.weightlift.protocol.ReleaseCheckpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * An agent process for {@link AgentProcessDeathTest}: registers as {@code args[0]} with the hub at
 * {@code args[1]} (keys in {@code args[2]}), prints REGISTERED, and on a ReleaseCheckpoint prints HANDLING
 * and never answers.
 */
public final class ClientProcessMain {

    private ClientProcessMain() {
    }

    public static void main(String[] args) throws Exception {
        String node = args[0];
        ClientConfig config = ClientConfig.of(node, args[1], CurveKeys.loadAgent(Path.of(args[2])));
        AgentReport report = new AgentReport() {
            @Override
            public Register registration() {
                return new Register(node, "process", "host", "127.0.0.1", 7200, "/run/weightlift", List.of(),
                        List.of(), state());
            }

            @Override
            public AgentState state() {
                return new AgentState(List.of(), List.of(), List.of(), List.of(), 0, 0);
            }
        };
        CountDownLatch never = new CountDownLatch(1);
        ControlClient client = new ControlClient(config, report, new SimpleMeterRegistry());
        client.handle(ReleaseCheckpoint.class, (request, context) -> {
            System.out.println("HANDLING");
            never.await();
            return new Ack();
        });
        client.start();
        if (!client.awaitRegistrations(1, Duration.ofSeconds(20))) {
            System.out.println("NOT REGISTERED");
            System.exit(1);
        }
        System.out.println("REGISTERED");
        never.await();
    }
}
