package dev.weightlift.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One agent JVM ({@code dev.weightlift.agent.AgentMain}) on the host backend, standing for one node. */
final class AgentProcess implements AutoCloseable {

    private final String node;
    private final ChildProcess process;
    private final Path socketDir;

    private AgentProcess(String node, ChildProcess process, Path socketDir) {
        this.node = node;
        this.process = process;
        this.socketDir = socketDir;
    }

    /** {@code classpath}: the agent's runtime classpath; {@code curveDir}: the agents' keys. */
    static AgentProcess start(String node, String classpath, String hubEndpoint, Path curveDir, Path nodeDir, int gpus,
            String gpuMemory, String hostMemory) throws IOException {
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
        env.put("WEIGHTLIFT_HTTP_PORT", "0");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-Dweightlift.log.file=" + nodeDir.resolve("agent.log"), "-cp", classpath, "dev.weightlift.agent.AgentMain");
        return new AgentProcess(node, ChildProcess.start("agent-" + node, command, env, nodeDir.resolve("agent.out"), line -> false), socketDir);
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

    @Override
    public void close() {
        process.close();
    }
}
