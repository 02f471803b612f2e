package dev.weightlift.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One test engine instance ({@code weightlift_engine.testing.engine}): vLLM's HTTP API on {@code host:port},
 * one worker per GPU UUID, each holding a TinyModel; {@link #checksums} asks every worker for the sha256 of
 * each parameter and the version it holds.
 */
final class EngineProcess implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one worker reports: the version it installed and its parameters' sha256 by name. */
    record WorkerState(String gpuUuid, String version, Map<String, String> sha256) {
    }

    private final ChildProcess process;
    private final String host;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private EngineProcess(ChildProcess process, String host, int port) {
        this.process = process;
        this.host = host;
        this.port = port;
    }

    static EngineProcess start(String name, String python, Path pythonPath, String host, int port, List<String> gpus,
            TinyCheckpoint.Shape shape, List<String> extraArgs, Path log) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("PYTHONPATH", pythonPath.toString());
        env.put("OMP_NUM_THREADS", "1");
        List<String> command = new ArrayList<>(List.of(python, "-u", "-m", "weightlift_engine.testing.engine", "--host", host,
                "--port", Integer.toString(port), "--gpu-uuids", String.join(",", gpus), "--vocab", Integer.toString(shape.vocab()),
                "--hidden", Integer.toString(shape.hidden()), "--layers", Integer.toString(shape.layers()), "--threads", "1"));
        command.addAll(extraArgs);
        ChildProcess child = ChildProcess.start(name, command, env, log, line -> line.startsWith("READY port="));
        return new EngineProcess(child, host, port);
    }

    void awaitReady(Duration deadline) throws IOException {
        process.awaitReady(deadline);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    void kill() throws InterruptedException {
        process.kill();
    }

    String host() {
        return host;
    }

    int port() {
        return port;
    }

    List<WorkerState> checksums(Duration timeout) throws IOException, InterruptedException {
        String body = JSON.writeValueAsString(Map.of("method", "weight_checksums", "args", List.of(), "timeout", timeout.toSeconds()));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/collective_rpc"))
                .timeout(timeout).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("engine " + host + ":" + port + " answered " + response.statusCode() + ": " + response.body());
        }
        List<WorkerState> states = new ArrayList<>();
        for (JsonNode r : JSON.readTree(response.body()).path("results")) {
            Map<String, String> sha = new HashMap<>();
            r.path("parameters").fields().forEachRemaining(e -> sha.put(e.getKey(), e.getValue().asText()));
            states.add(new WorkerState(r.path("gpu_uuid").asText(), r.path("version").isNull() ? null : r.path("version").asText(), sha));
        }
        return states;
    }

    @Override
    public void close() {
        process.close();
    }
}
