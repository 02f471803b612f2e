package dev.weightlift.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectableChannel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Work handed to the thread that owns a ZeroMQ socket (sockets are single-threaded). Any thread submits;
 * the owner registers {@link #wakeChannel()} in its poller, so a submit wakes it, then runs {@link #runAll()}.
 */
public final class CommandQueue implements AutoCloseable {

    private final Queue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final Pipe pipe;
    private final ByteBuffer drain = ByteBuffer.allocate(256);

    public CommandQueue() throws IOException {
        pipe = Pipe.open();
        pipe.source().configureBlocking(false);
        pipe.sink().configureBlocking(false);
    }

    /** The channel to poll for input: readable when commands wait. */
    public SelectableChannel wakeChannel() {
        return pipe.source();
    }

    public void submit(Runnable command) {
        commands.add(command);
        try {
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
        } catch (IOException e) {
            // closed: the owner is gone and will not run it; a full pipe already means a wake-up is due
        }
    }

    /** On the owner thread: clears the wake-up and runs every command submitted so far. */
    public void runAll() {
        try {
            while (pipe.source().read(drain) > 0) {
                drain.clear();
            }
        } catch (IOException e) {
            drain.clear();
        }
        for (Runnable command; (command = commands.poll()) != null; ) {
            command.run();
        }
    }

    @Override
    public void close() {
        try {
            pipe.sink().close();
            pipe.source().close();
        } catch (IOException e) {
            // nothing left to release
        }
    }
}
