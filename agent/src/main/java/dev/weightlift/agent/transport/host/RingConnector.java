package dev.weightlift.agent.transport.host;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Opens a rank's connection to the next rank's transfer server: connects (retrying while the port
 * refuses, as the next agent may still be starting), says hello and waits for the answer, all before a
 * deadline.
 */
final class RingConnector {

    private static final Duration RETRY = Duration.ofMillis(50);

    private RingConnector() {
    }

    /**
     * The accepted connection; throws when the deadline passes, the server refuses (the message says why)
     * or {@code giveUp} turns true between attempts.
     */
    static SocketChannel connect(InetSocketAddress address, Wire.Hello hello, long deadlineNanos, ScheduledExecutorService timers,
            BooleanSupplier giveUp) throws IOException, InterruptedException {
        while (true) {
            SocketChannel channel = SocketChannel.open();
            try {
                channel.socket().connect(address, (int) Math.max(1, millisLeft(deadlineNanos)));
                channel.socket().setTcpNoDelay(true);
                ScheduledFuture<?> watchdog = timers.schedule(() -> TransferServer.closeQuietly(channel),
                        Math.max(1, millisLeft(deadlineNanos)), TimeUnit.MILLISECONDS);
                String refusal;
                try {
                    hello.write(channel);
                    refusal = Wire.readVerdict(channel);
                } finally {
                    watchdog.cancel(false);
                }
                if (refusal != null) {
                    throw new IOException("refused the connection: " + refusal);
                }
                return channel;
            } catch (ConnectException e) {
                TransferServer.closeQuietly(channel);
                if (millisLeft(deadlineNanos) < RETRY.toMillis() || giveUp.getAsBoolean()) {
                    throw e;
                }
                Thread.sleep(RETRY.toMillis());
            } catch (IOException e) {
                TransferServer.closeQuietly(channel);
                throw e;
            }
        }
    }

    private static long millisLeft(long deadlineNanos) {
        return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }
}
