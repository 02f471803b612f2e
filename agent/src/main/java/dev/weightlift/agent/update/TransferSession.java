package dev.weightlift.agent.update;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.transport.host.TcpCollective;
import dev.weightlift.agent.transport.host.TransferOptions;
import dev.weightlift.agent.transport.host.TransferServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One update's side of the host backend's collective on this node: a {@link TcpCollective} per local rank over
 * the agent's one {@link TransferServer}. The join info is the server's address as the other agents reach it.
 */
final class TransferSession implements CollectiveFactory.Session {

    private final String update;
    private final TransferServer server;
    private final String joinInfo;
    private final Set<Integer> localRanks;
    private final List<TcpCollective> opened = new ArrayList<>();
    private boolean closed;

    TransferSession(String update, TransferServer server, String advertiseHost, Set<Integer> localRanks) {
        this.update = update;
        this.server = server;
        this.localRanks = Set.copyOf(localRanks);
        this.joinInfo = advertiseHost + ":" + server.address().getPort();
    }

    @Override
    public String joinInfo() {
        return joinInfo;
    }

    /** {@code timeout} bounds connecting and every broadcast. */
    @Override
    public synchronized Map<Integer, Collective> connect(List<String> joinInfo, Duration timeout) throws IOException {
        if (closed) {
            throw new IOException("update " + update + ": the collective was closed before it connected");
        }
        List<InetSocketAddress> peers = new ArrayList<>(joinInfo.size());
        for (int rank = 0; rank < joinInfo.size(); rank++) {
            peers.add(address(rank, joinInfo.get(rank)));
        }
        TransferOptions options = TransferOptions.DEFAULT.withTimeout(timeout);
        Map<Integer, Collective> collectives = new HashMap<>();
        for (int rank : localRanks) {
            TcpCollective collective = TcpCollective.open(server, update, rank, peers, options);
            opened.add(collective);
            collectives.put(rank, collective);
        }
        return collectives;
    }

    private InetSocketAddress address(int rank, String hostPort) throws IOException {
        int colon = hostPort.lastIndexOf(':');
        try {
            return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (RuntimeException e) {
            throw new IOException("update " + update + ": rank " + rank + "'s transfer address '" + hostPort
                    + "' is not host:port", e);
        }
    }

    /** Closes every rank's collective; a peer still waiting for a broadcast from one of them fails at once. */
    @Override
    public void close() {
        List<TcpCollective> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayList<>(opened);
            opened.clear();
        }
        toClose.forEach(TcpCollective::close);
    }
}
