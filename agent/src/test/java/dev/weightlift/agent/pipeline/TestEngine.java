package dev.weightlift.agent.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A real engine process: {@code python -m weightlift_engine.testing.engine} with our package and a torch model. */
final class TestEngine implements AutoCloseable {

    static final Path PYTHON_PACKAGE = Path.of("python").toAbsolutePath();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newHttpClient();

    private TestEngine(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    static String python() {
        return System.getProperty("weightlift.python", "/usr/bin/python3");
    }

    /** Starts the engine with one worker per GPU UUID and the given extra flags; waits for its READY line. */
    static TestEngine start(List<String> gpuUuids, Path logDir, String... flags) throws IOException {
        List<String> command = new ArrayList<>(List.of(python(), "-m", "weightlift_engine.testing.engine", "--port", "0",
                "--gpu-uuids", String.join(",", gpuUuids)));
        command.addAll(List.of(flags));
        Path log = logDir.resolve("engine-" + System.nanoTime() + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
        builder.environment().put("PYTHONPATH", PYTHON_PACKAGE.toString());
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Process process = builder.start();
        CompletableFuture<Integer> ready = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("READY port=")) {
                        return Integer.parseInt(line.substring("READY port=".length()).trim());
                    }
                }
                return -1;
            } catch (IOException e) {
                return -1;
            }
        });
        int port;
        try {
            port = ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IOException("test engine did not start within 60 s; log " + log, e);
        }
        if (port < 0) {
            process.destroyForcibly();
            throw new IOException("test engine exited before it was ready; log " + log);
        }
        return new TestEngine(process, port, log);
    }

    int port() {
        return port;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** True when the process has exited within {@code timeout}. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    Path log() {
        return log;
    }

    /** Calls a method through {@code /collective_rpc}; returns the per-worker results. */
    JsonNode rpc(String method) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/collective_rpc"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString("{\"method\": \"" + method + "\", \"args\": []}")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(method + " answered " + response.statusCode() + ": " + response.body());
        }
        return MAPPER.readTree(response.body()).path("results");
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
