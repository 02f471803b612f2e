package dev.weightlift.agent.update;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The host backend's stand-in for an NCCL communicator across agent processes: a full TCP mesh between the
 * ranks of one update (rank i dials every rank j &gt; i; each agent listens once for its local ranks), and a
 * broadcast in which the root writes the bytes to every other rank in turn. Blocking per call, ordered after
 * the work already queued on the caller's stream. Closing the group (an abort) breaks every pending call.
 * Regions are read and written at their addresses in this process (host backend memory, shared or not).
 */
public final class TcpMeshGroup implements CollectiveFactory.Session {

    private static final int MAGIC = 0x574c4d31;
    private static final int CHUNK = 1 << 20;

    private final String update;
    private final ServerSocket listener;
    private final String endpoint;
    private final Map<Long, Socket> accepted = new ConcurrentHashMap<>();
    private final List<Socket> all = new ArrayList<>();
    private volatile boolean closed;

    private TcpMeshGroup(String update, ServerSocket listener, String advertiseHost) {
        this.update = update;
        this.listener = listener;
        this.endpoint = advertiseHost + ":" + listener.getLocalPort();
    }

    /** Listens on an ephemeral port of {@code bindHost}; others reach it at {@code advertiseHost}. */
    public static TcpMeshGroup listen(String update, String bindHost, String advertiseHost) throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.bind(new InetSocketAddress(bindHost, 0));
        return new TcpMeshGroup(update, socket, advertiseHost);
    }

    @Override
    public String joinInfo() {
        return endpoint;
    }

    /**
     * Connects {@code localRanks} to every other rank and returns a collective per local rank, by rank.
     * {@code rankEndpoints} holds the agent endpoint of every rank; {@code timeout} bounds the whole set-up and
     * every later read.
     */
    @Override
    public Map<Integer, Collective> connect(List<String> rankEndpoints, List<Integer> localRanks, Duration timeout)
            throws IOException {
        int size = rankEndpoints.size();
        long deadline = System.nanoTime() + timeout.toNanos();
        int expected = 0;
        for (int local : localRanks) {
            expected += local;
        }
        CountDownLatch arrivals = new CountDownLatch(expected);
        Thread acceptor = new Thread(() -> acceptAll(arrivals, deadline), "mesh-accept-" + update);
        acceptor.setDaemon(true);
        acceptor.start();
        Map<Integer, Map<Integer, Socket>> peers = new TreeMap<>();
        for (int local : localRanks) {
            Map<Integer, Socket> mine = new TreeMap<>();
            for (int peer = local + 1; peer < size; peer++) {
                mine.put(peer, dial(rankEndpoints.get(peer), local, peer, deadline, timeout));
            }
            peers.put(local, mine);
        }
        try {
            if (!arrivals.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new IOException("update " + update + ": only " + (expected - arrivals.getCount()) + " of " + expected
                        + " collective connections arrived within " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting the collective of update " + update, e);
        }
        Map<Integer, Collective> collectives = new TreeMap<>();
        for (int local : localRanks) {
            Map<Integer, Socket> mine = peers.get(local);
            for (int peer = 0; peer < local; peer++) {
                Socket s = accepted.get(key(peer, local));
                if (s == null) {
                    throw new IOException("update " + update + ": no connection from rank " + peer + " to rank " + local);
                }
                mine.put(peer, s);
            }
            collectives.put(local, new MeshCollective(local, size, mine));
        }
        return collectives;
    }

    private Socket dial(String target, int from, int to, long deadline, Duration timeout) throws IOException {
        int colon = target.lastIndexOf(':');
        InetSocketAddress address = new InetSocketAddress(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
        IOException last = null;
        while (System.nanoTime() < deadline && !closed) {
            Socket socket = new Socket();
            try {
                socket.setTcpNoDelay(true);
                socket.connect(address, (int) Math.max(1, Math.min(5_000, (deadline - System.nanoTime()) / 1_000_000)));
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeInt(MAGIC);
                out.writeUTF(update);
                out.writeInt(from);
                out.writeInt(to);
                out.flush();
                register(socket);
                return socket;
            } catch (IOException e) {
                socket.close();
                last = e;
                sleepQuietly(50);
            }
        }
        throw new IOException("update " + update + ": rank " + from + " could not connect to rank " + to + " at " + target
                + (last == null ? "" : ": " + last.getMessage()), last);
    }

    private void acceptAll(CountDownLatch arrivals, long deadline) {
        while (arrivals.getCount() > 0 && !closed && System.nanoTime() < deadline) {
            try {
                listener.setSoTimeout((int) Math.max(1, Math.min(1_000, (deadline - System.nanoTime()) / 1_000_000)));
                Socket socket = listener.accept();
                socket.setTcpNoDelay(true);
                socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                DataInputStream in = new DataInputStream(socket.getInputStream());
                if (in.readInt() != MAGIC || !update.equals(in.readUTF())) {
                    socket.close();
                    continue;
                }
                int from = in.readInt();
                int to = in.readInt();
                register(socket);
                accepted.put(key(from, to), socket);
                arrivals.countDown();
            } catch (SocketTimeoutException e) {
                continue;
            } catch (IOException e) {
                if (!closed) {
                    sleepQuietly(10);
                }
            }
        }
    }

    private synchronized void register(Socket socket) throws IOException {
        if (closed) {
            socket.close();
            throw new IOException("update " + update + ": the collective is closed");
        }
        all.add(socket);
    }

    private static long key(int from, int to) {
        return ((long) from << 32) | to;
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        List<Socket> sockets;
        synchronized (this) {
            closed = true;
            sockets = new ArrayList<>(all);
        }
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing: nothing left to do with it
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing: nothing left to do with it
            }
        }
    }

    /** One rank's view of the mesh. */
    private final class MeshCollective implements Collective {
        private final int rank;
        private final int size;
        private final Map<Integer, Socket> peers;
        private final byte[] chunk = new byte[CHUNK];

        MeshCollective(int rank, int size, Map<Integer, Socket> peers) {
            this.rank = rank;
            this.size = size;
            this.peers = peers;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void broadcast(MemoryRegion region, long offset, long length, int root, CopyStream stream) {
            if (offset < 0 || length < 0 || offset + length > region.size()) {
                throw new IllegalArgumentException("broadcast of [" + offset + ", +" + length + ") outside " + region);
            }
            stream.synchronize();
            try {
                if (root == rank) {
                    for (Socket peer : peers.values()) {
                        send(region, offset, length, peer.getOutputStream());
                    }
                } else {
                    Socket from = peers.get(root);
                    if (from == null) {
                        throw new IllegalArgumentException("broadcast root " + root + " is not a rank of " + size);
                    }
                    receive(region, offset, length, root, from.getInputStream());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("update " + update + ": broadcast of " + length + " bytes from rank " + root
                        + " failed on rank " + rank + (closed ? " (collective closed)" : "") + ": " + e.getMessage(), e);
            }
        }

        private void send(MemoryRegion region, long offset, long length, OutputStream out) throws IOException {
            for (long done = 0; done < length; ) {
                int n = (int) Math.min(CHUNK, length - done);
                NativeMemory.view(region.address() + offset + done, n).get(chunk, 0, n);
                out.write(chunk, 0, n);
                done += n;
            }
            out.flush();
        }

        private void receive(MemoryRegion region, long offset, long length, int root, InputStream in) throws IOException {
            for (long done = 0; done < length; ) {
                int n = (int) Math.min(CHUNK, length - done);
                int read = in.read(chunk, 0, n);
                if (read < 0) {
                    throw new IOException("connection closed by rank " + root + " after " + done + " of " + length + " bytes");
                }
                NativeMemory.view(region.address() + offset + done, read).put(chunk, 0, read);
                done += read;
            }
        }

        @Override
        public void close() {
            // the sockets belong to the group, which closes them all at once
        }
    }
}
