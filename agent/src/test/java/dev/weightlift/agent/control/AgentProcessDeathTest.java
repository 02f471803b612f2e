package dev.weightlift.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.operator.hub.AgentException;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.HubConfig;
import dev.weightlift.protocol.Ack;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.ReleaseCheckpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An agent process killed mid-request: the hub fails the request within its heartbeat timeout, naming the node. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AgentProcessDeathTest {

    private static final Duration AGENT_TIMEOUT = Duration.ofMillis(800);
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path keysDir;

    @Test
    void aKilledAgentProcessFailsItsPendingRequestFast() throws Exception {
        CurveKeys.generate(keysDir);
        HubConfig config = HubConfig.of("tcp://127.0.0.1:*", CurveKeys.loadHub(keysDir))
                .withTimings(Duration.ofMillis(200), AGENT_TIMEOUT);
        try (AgentHub hub = AgentHub.start(config, new SimpleMeterRegistry())) {
            Process agent = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx128m", "-cp", System.getProperty("java.class.path"), ClientProcessMain.class.getName(),
                    "node-p", hub.endpoint(), keysDir.toString())).redirectErrorStream(true).start();
            try {
                BlockingQueue<String> lines = lines(agent);
                expectLine(lines, "REGISTERED");
                CompletableFuture<Ack> pending = hub.request("node-p", new ReleaseCheckpoint("llama", "1"),
                        Duration.ofSeconds(30));
                expectLine(lines, "HANDLING");
                long killed = System.nanoTime();
                agent.destroyForcibly();
                ExecutionException failed = assertThrows(ExecutionException.class,
                        () -> pending.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
                long millis = (System.nanoTime() - killed) / 1_000_000;
                AgentException error = assertInstanceOf(AgentException.class, failed.getCause());
                assertEquals(AgentException.Reason.GONE, error.reason());
                assertEquals("node-p", error.node());
                assertTrue(error.getMessage().contains("the agent on node node-p missed heartbeats"), error.getMessage());
                assertTrue(millis < AGENT_TIMEOUT.toMillis() + 1000, "failed " + millis + " ms after the kill");
            } finally {
                agent.destroyForcibly();
                agent.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static BlockingQueue<String> lines(Process process) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("READ FAILED " + e.getMessage());
            }
        }, "agent-process-output");
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    private static void expectLine(BlockingQueue<String> lines, String expected) throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        StringBuilder seen = new StringBuilder();
        while (System.nanoTime() < end) {
            String line = lines.poll(end - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (line == null) {
                break;
            }
            if (line.equals(expected)) {
                return;
            }
            seen.append(line).append('\n');
        }
        throw new AssertionError("agent process did not print " + expected + " within " + WAIT + "; it printed:\n" + seen);
    }
}
