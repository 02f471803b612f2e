package dev.weightlift.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One agent JVM ({@code dev.weightlift.agent.AgentMain}) on the host backend, standing for one node. */
final class AgentProcess implements AutoCloseable {

    private final String node;
    private final ChildProcess process;
    private final Path socketDir;
    private final int httpPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private AgentProcess(String node, ChildProcess process, Path socketDir, int httpPort) {
        this.node = node;
        this.process = process;
        this.socketDir = socketDir;
        this.httpPort = httpPort;
    }

    /**
     * {@code classpath}: the agent's runtime classpath; {@code curveDir}: the agents' keys; {@code httpPort}
     * serves its {@code /metrics}; {@code p2pPort} its P2P listener; {@code extraEnv} adds to (or overrides) its environment.
     */
    static AgentProcess start(String node, String classpath, String hubEndpoint, Path curveDir, Path nodeDir, int gpus,
            String gpuMemory, String hostMemory, int httpPort, int p2pPort, Map<String, String> extraEnv) throws IOException {
        Path socketDir = nodeDir.resolve("run");
        Files.createDirectories(socketDir);
        Map<String, String> env = new HashMap<>();
        env.put("NODE_NAME", node);
        env.put("HOST_IP", "127.0.0.1");
        env.put("WEIGHTLIFT_HUB_ENDPOINT", hubEndpoint);
        env.put("WEIGHTLIFT_CURVE_DIR", curveDir.toString());
        env.put("WEIGHTLIFT_BACKEND", "host");
        env.put("WEIGHTLIFT_SOCKET_DIR", socketDir.toString());
        env.put("WEIGHTLIFT_HOST_GPUS", Integer.toString(gpus));
        env.put("WEIGHTLIFT_HOST_GPU_MEMORY", gpuMemory);
        env.put("WEIGHTLIFT_HOST_MEMORY_LIMIT", hostMemory);
        env.put("WEIGHTLIFT_HTTP_PORT", Integer.toString(httpPort));
        env.put("WEIGHTLIFT_P2P_PORT", Integer.toString(p2pPort));
        env.putAll(extraEnv);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-Dweightlift.log.file=" + nodeDir.resolve("agent.log"), "-cp", classpath, "dev.weightlift.agent.AgentMain");
        return new AgentProcess(node, ChildProcess.start("agent-" + node, command, env, nodeDir.resolve("agent.out"), line -> false), socketDir,
                httpPort);
    }

    String node() {
        return node;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path socketDir() {
        return socketDir;
    }

    long pid() {
        return process.pid();
    }

    /** Sends {@code signal} (e.g. {@code STOP}, {@code CONT}) to the agent JVM. */
    void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + signal + " failed for agent " + node);
        }
    }

    /** SIGKILL, as a node crash would. */
    void kill() throws InterruptedException {
        process.kill();
    }

    /** Open file descriptors of the agent JVM ({@code /proc/<pid>/fd}). */
    int openFileDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
            return (int) fds.count();
        }
    }

    /**
     * Runs a full GC in the agent JVM ({@code jcmd <pid> GC.run}): the JDK's HttpClient (one per engine trigger)
     * holds a selector (an epoll and an eventfd descriptor) until it is collected, so descriptor counts are
     * compared after a collection.
     */
    void collectGarbage() throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process gc = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!gc.waitFor(30, TimeUnit.SECONDS) || gc.exitValue() != 0) {
            gc.destroyForcibly();
            throw new IOException("jcmd GC.run failed for agent " + node);
        }
    }

    /** What each open file descriptor of the agent JVM points at, sorted (for a failure message). */
    List<String> fileDescriptorTargets() throws IOException {
        try (var fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return "?";
                }
            }).sorted().toList();
        }
    }

    /** Resident memory of the agent JVM in bytes ({@code VmRSS} of {@code /proc/<pid>/status}). */
    long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS for agent " + node);
    }

    /** A value of the agent's {@code /metrics} (Prometheus text), e.g. {@code weightlift_host_store_used_bytes}. */
    double metric(String name) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        for (String line : response.body().split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new IOException("agent " + node + " has no metric " + name);
    }

    @Override
    public void close() {
        process.close();
    }
}
