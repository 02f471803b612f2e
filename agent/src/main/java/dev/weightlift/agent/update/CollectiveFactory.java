package dev.weightlift.agent.update;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.cuda.CudaGpu;
import dev.weightlift.agent.device.cuda.NcclCollective;
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
 * {@link TcpCollective} ring (join info: the agent's transfer address {@code host:port}); on {@code cuda} it is
 * NCCL (join info: the unique id that rank 0's agent made, see {@link UniqueIdSession}).
 */
@FunctionalInterface
public interface CollectiveFactory {

    /** {@code gpus}: this node's GPUs in the update, by collective rank. */
    Session open(String update, Map<Integer, Gpu> gpus) throws IOException;

    /** One update's side of the collective on this node; closing it breaks every pending call. */
    interface Session extends AutoCloseable {

        String joinInfo();

        /**
         * A collective per local rank, by rank; {@code joinInfo} holds every rank's agent's join info, by rank;
         * {@code timeout} bounds connecting and each collective call.
         */
        Map<Integer, Collective> connect(List<String> joinInfo, Duration timeout) throws IOException;

        @Override
        void close();
    }

    /** The host backend's collective: {@link TcpCollective}s over the agent's {@code server}, reached at {@code advertiseHost}. */
    static CollectiveFactory hostTransfer(TransferServer server, String advertiseHost) {
        return (update, gpus) -> new TransferSession(update, server, advertiseHost, gpus.keySet());
    }

    /** The cuda backend's collective: an NCCL communicator per update, its unique id made by rank 0's agent. */
    static CollectiveFactory nccl() {
        return (update, gpus) -> new UniqueIdSession(update, gpus, NcclCollective::newUniqueId, (gpu, id, rank, size) -> {
            if (!(gpu instanceof CudaGpu cuda)) {
                throw new IllegalArgumentException("NCCL needs a CUDA GPU, not " + gpu);
            }
            return NcclCollective.join(cuda, id, rank, size);
        });
    }
}
