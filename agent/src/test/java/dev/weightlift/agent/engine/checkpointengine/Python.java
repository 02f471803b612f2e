package dev.weightlift.agent.engine.checkpointengine;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's python3 running the test scripts under {@code checkpointengine/}, optionally with the stub torch. */
public final class Python {

    static final String INTERPRETER = System.getProperty("weightlift.python", "/usr/bin/python3");

    private Python() {
    }

    public static Path resource(String name) {
        try {
            return Path.of(Python.class.getResource("/checkpointengine/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Starts {@code script args...}; with {@code stubTorch} the stub package shadows the installed torch. */
    public static Process start(boolean stubTorch, Path output, String script, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(INTERPRETER);
        command.add(resource(script).toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().remove("PYTHONPATH");
        if (stubTorch) {
            builder.environment().put("PYTHONPATH", resource("torchstub").toString());
        }
        return builder.start();
    }

    /** Waits for the process; returns its exit code, killing it when the deadline passes. */
    public static int await(Process process, Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("python did not exit within " + timeout);
        }
        return process.exitValue();
    }

    public static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }
}
