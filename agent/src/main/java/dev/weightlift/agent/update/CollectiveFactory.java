package dev.weightlift.agent.update;

import dev.weightlift.agent.device.Collective;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Makes the collective of one update on this node, in two steps so the operator can hand each agent what the
 * others said: {@link #open} at prepare time returns a session whose {@link Session#joinInfo()} goes to the
 * operator; at run time {@link Session#connect} gets every rank's join info. On {@code host} it is the TCP mesh
 * (join info {@code host:port}); on {@code cuda} it would be NCCL (join info: rank 0's unique id).
 */
@FunctionalInterface
public interface CollectiveFactory {

    Session open(String update) throws IOException;

    /** One update's side of the collective on this node; closing it breaks every pending call. */
    interface Session extends AutoCloseable {

        String joinInfo();

        /** A collective per local rank, by rank; {@code joinInfo} holds every rank's agent's join info, by rank. */
        Map<Integer, Collective> connect(List<String> joinInfo, List<Integer> localRanks, Duration timeout) throws IOException;

        @Override
        void close();
    }

    /** The host backend's collective: a TCP mesh listening on {@code bindHost}, reached at {@code advertiseHost}. */
    static CollectiveFactory tcpMesh(String bindHost, String advertiseHost) {
        return update -> TcpMeshGroup.listen(update, bindHost, advertiseHost);
    }
}
