package dev.weightlift.agent.transport.ucx;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openucx.jucx.ucp.UcpWorker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that drives a UCX worker: it runs the tasks given to it, progresses the worker (which
 * serves remote reads on transports that need the target's help, such as TCP) and sleeps on the worker's
 * event descriptor when there is nothing to do.
 */
final class WorkerLoop implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerLoop.class);

    private final UcpWorker worker;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private volatile boolean stopping;

    WorkerLoop(UcpWorker worker, String name) {
        this.worker = worker;
        this.thread = new Thread(this::loop, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Runs {@code task} on the loop's thread and returns its result, waiting at most {@code timeout}. */
    <T> T call(Callable<T> task, Duration timeout) {
        if (Thread.currentThread() == thread) {
            try {
                return task.call();
            } catch (Exception e) {
                throw e instanceof RuntimeException r ? r : new P2pException(e.getMessage(), e);
            }
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                result.complete(task.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        worker.signal();
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new P2pException(cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new P2pException("the UCX worker thread " + thread.getName() + " did not answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new P2pException("interrupted while waiting for the UCX worker thread", e);
        }
    }

    private void loop() {
        while (!stopping) {
            Runnable task;
            while ((task = tasks.poll()) != null) {
                task.run();
            }
            try {
                if (worker.progress() == 0 && tasks.isEmpty() && !stopping) {
                    worker.waitForEvents();
                }
            } catch (Exception e) {
                LOG.warn("ucx worker progress failed thread={} error={}", thread.getName(), e.toString());
            }
        }
        Runnable task;
        while ((task = tasks.poll()) != null) {
            task.run();
        }
    }

    boolean isAlive() {
        return thread.isAlive();
    }

    /** Runs {@code last} on the loop's thread as its final task, then stops the thread. */
    void stop(Runnable last, Duration timeout) {
        try {
            call(() -> {
                last.run();
                stopping = true;
                return null;
            }, timeout);
        } finally {
            stopping = true;
            worker.signal();
            try {
                thread.join(timeout.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stop(() -> { }, Duration.ofSeconds(5));
    }
}
