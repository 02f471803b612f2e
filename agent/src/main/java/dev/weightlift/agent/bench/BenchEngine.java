package dev.weightlift.agent.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Drives {@code agent/bench/engine_consumer.py}, a stand-in engine worker on one GPU: one command line out,
 * one reply line back, every wait with a deadline. Used by the GPU benchmarks only.
 */
final class BenchEngine implements AutoCloseable {

    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final String name;

    private BenchEngine(Process process, String name) {
        this.process = process;
        this.name = name;
        this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::readReplies, name + "-replies");
        reader.setDaemon(true);
        reader.start();
    }

    static BenchEngine start(Path script, String gpuUuid, Duration timeout) throws IOException {
        String python = System.getProperty("weightlift.python", "python3");
        Process process = new ProcessBuilder(python, script.toString(), gpuUuid)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BenchEngine engine = new BenchEngine(process, "engine@" + gpuUuid);
        engine.awaitReply("start", timeout, "ready");
        return engine;
    }

    /** Sends one command; the reply is read by {@link #awaitReply}. */
    void send(String command) {
        try {
            commands.write(command);
            commands.write('\n');
            commands.flush();
        } catch (IOException e) {
            throw new IllegalStateException(name + " stopped taking commands (" + command.split(" ")[0] + ")", e);
        }
    }

    /** Waits for the next reply, which must start with {@code expected}; returns the rest of it. */
    String awaitReply(String step, Duration timeout, String expected) {
        String reply;
        try {
            reply = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(name + ": interrupted waiting for " + step, e);
        }
        if (reply == null) {
            throw new IllegalStateException(name + ": no reply to " + step + " within " + timeout
                    + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")"));
        }
        if (!reply.startsWith(expected)) {
            throw new IllegalStateException(name + ": " + step + " answered '" + reply + "'");
        }
        return reply.substring(expected.length()).trim();
    }

    String call(String command, Duration timeout) {
        send(command);
        return awaitReply(command.split(" ")[0], timeout, "ok");
    }

    private void readReplies() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                replies.add(line);
            }
        } catch (IOException e) {
            replies.add("error " + name + " output closed: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                call("quit", Duration.ofSeconds(10));
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (RuntimeException e) {
                process.destroy();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroy();
            }
        }
        process.destroyForcibly();
    }
}
