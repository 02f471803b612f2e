package dev.weightlift.agent.device;

/**
 * One communicator over the GPUs taking part in one update (an NCCL communicator on cuda, a TCP transfer
 * between agents on host). Made per update from an id the operator hands out, closed after it to free
 * device memory.
 */
public interface Collective extends AutoCloseable {

    int rank();

    int size();

    /** Broadcasts {@code [offset, offset + length)} of {@code region} from {@code root} to every rank, ordered on {@code stream}. */
    void broadcast(MemoryRegion region, long offset, long length, int root, CopyStream stream);

    @Override
    void close();
}
