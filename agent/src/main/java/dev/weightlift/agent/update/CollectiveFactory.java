package dev.weightlift.agent.update;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.transport.host.TcpCollective;
import dev.weightlift.agent.transport.host.TransferServer;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Makes the collective of one update on this node, in two steps so the operator can hand each agent what the
 * others said: {@link #open} at prepare time returns a session whose {@link Session#joinInfo()} goes to the
 * operator; at run time {@link Session#connect} gets every rank's join info. On {@code host} it is a
 * {@link TcpCollective} ring (join info: the agent's transfer address {@code host:port}); on {@code cuda} it would be NCCL
 * (join info: rank 0's unique id).
 */
@FunctionalInterface
public interface CollectiveFactory {

    Session open(String update) throws IOException;

    /** One update's side of the collective on this node; closing it breaks every pending call. */
    interface Session extends AutoCloseable {

        String joinInfo();

        /**
         * A collective per local rank, by rank; {@code joinInfo} holds every rank's agent's join info, by rank;
         * {@code timeout} bounds connecting and each collective call.
         */
        Map<Integer, Collective> connect(List<String> joinInfo, List<Integer> localRanks, Duration timeout) throws IOException;

        @Override
        void close();
    }

    /** The host backend's collective: {@link TcpCollective}s over the agent's {@code server}, reached at {@code advertiseHost}. */
    static CollectiveFactory hostTransfer(TransferServer server, String advertiseHost) {
        return update -> new TransferSession(update, server, advertiseHost);
    }
}
