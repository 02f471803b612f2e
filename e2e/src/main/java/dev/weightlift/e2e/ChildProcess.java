package dev.weightlift.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A process of the local fleet (agent JVM, engine) with its output in a log file; {@link #awaitReady} waits
 * for the line of its output that says it is ready. Closing destroys it (and its children) and waits for it to be gone.
 */
final class ChildProcess implements AutoCloseable {

    private final String name;
    private final Process process;
    private final Path log;
    private final CompletableFuture<String> awaited = new CompletableFuture<>();
    private final Predicate<String> ready;

    private ChildProcess(String name, Process process, Path log, Predicate<String> ready) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.ready = ready;
    }

    /** {@code ready}: the output line that says the process is ready ({@link #awaitReady}). */
    static ChildProcess start(String name, List<String> command, Map<String, String> env, Path log, Predicate<String> ready)
            throws IOException {
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Files.writeString(log.resolveSibling(log.getFileName() + ".cmd"), String.join(" ", command) + System.lineSeparator());
        ChildProcess child = new ChildProcess(name, builder.start(), log, ready);
        Thread pump = new Thread(child::pump, "output-" + name);
        pump.setDaemon(true);
        pump.start();
        return child;
    }

    private void pump() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                var out = Files.newBufferedWriter(log)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.newLine();
                out.flush();
                if (ready.test(line)) {
                    awaited.complete(line);
                }
            }
        } catch (IOException e) {
            awaited.completeExceptionally(e);
        }
        awaited.completeExceptionally(new IOException(name + " exited with " + exitText() + " (log " + log + ")"));
    }

    String awaitReady(Duration deadline) throws IOException {
        try {
            return awaited.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException(name + " did not get ready within " + deadline.toSeconds() + " s (log " + log + ")");
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for " + name, e);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** Kills the process at once (SIGKILL), as a crash would, and waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " still running 10 s after SIGKILL");
        }
    }

    Path log() {
        return log;
    }

    private String exitText() {
        try {
            return process.waitFor(2, TimeUnit.SECONDS) ? "status " + process.exitValue() : "no status yet";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown status";
        }
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
