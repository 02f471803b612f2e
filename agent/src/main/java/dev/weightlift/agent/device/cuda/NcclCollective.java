package dev.weightlift.agent.device.cuda;

import static org.bytedeco.cuda.global.nccl.ncclBroadcast;
import static org.bytedeco.cuda.global.nccl.ncclCommDestroy;
import static org.bytedeco.cuda.global.nccl.ncclCommInitRank;
import static org.bytedeco.cuda.global.nccl.ncclGetErrorString;
import static org.bytedeco.cuda.global.nccl.ncclGetUniqueId;
import static org.bytedeco.cuda.global.nccl.ncclSuccess;
import static org.bytedeco.cuda.global.nccl.ncclUint8;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NCCL communicator for one update, over one GPU per rank. The unique id comes from
 * {@link #newUniqueId()} on one participant and reaches the others through the operator; the process that
 * made it must stay up until every rank has joined (it runs NCCL's bootstrap root).
 */
public final class NcclCollective implements Collective {

    /** Bytes of an {@code ncclUniqueId}. */
    public static final int UNIQUE_ID_BYTES = 128;

    private static final Logger LOG = LoggerFactory.getLogger(NcclCollective.class);

    private final ncclComm comm;
    private final int device;
    private final int rank;
    private final int size;
    private final AtomicBoolean closed = new AtomicBoolean();

    private NcclCollective(ncclComm comm, int device, int rank, int size) {
        this.comm = comm;
        this.device = device;
        this.rank = rank;
        this.size = size;
    }

    /** A fresh NCCL unique id; loads CUDA and NCCL first. */
    public static byte[] newUniqueId() {
        CudaRuntime.load();
        try (ncclUniqueId id = new ncclUniqueId()) {
            check(ncclGetUniqueId(id), "ncclGetUniqueId");
            byte[] bytes = new byte[UNIQUE_ID_BYTES];
            id.internal().get(bytes);
            return bytes;
        }
    }

    /** Joins the communicator of {@code uniqueId} as {@code rank} of {@code size} on {@code gpu}; blocks until all ranks joined. */
    public static NcclCollective join(CudaGpu gpu, byte[] uniqueId, int rank, int size) {
        if (uniqueId.length != UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("an NCCL unique id has " + UNIQUE_ID_BYTES + " bytes, not " + uniqueId.length);
        }
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " outside a communicator of " + size);
        }
        CudaRuntime.load();
        CudaRuntime.use(gpu.index());
        ncclComm comm = new ncclComm();
        long start = System.nanoTime();
        try (ncclUniqueId id = new ncclUniqueId()) {
            id.internal().put(uniqueId);
            check(ncclCommInitRank(comm, size, id, rank), "ncclCommInitRank(rank " + rank + " of " + size + ") on gpu" + gpu.index());
        }
        LOG.info("nccl joined rank={} size={} gpu={} initMs={}", rank, size, gpu.index(), (System.nanoTime() - start) / 1_000_000);
        return new NcclCollective(comm, gpu.index(), rank, size);
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
        if (!(stream instanceof CudaStream cuda) || cuda.device() != device) {
            throw new IllegalArgumentException("an NCCL broadcast on gpu" + device + " needs a CUDA stream of that GPU, not " + stream);
        }
        if (offset < 0 || length < 0 || offset + length > region.size()) {
            throw new IndexOutOfBoundsException("broadcast [" + offset + ", " + (offset + length) + ") outside " + region);
        }
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("broadcast root " + root + " outside a communicator of " + size);
        }
        CudaRuntime.use(device);
        RawPointer buffer = new RawPointer(region.address() + offset, length);
        check(ncclBroadcast(buffer, buffer, length, ncclUint8, root, comm, cuda.handle()),
                "ncclBroadcast " + length + " B from rank " + root + " on gpu" + device);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            CudaRuntime.use(device);
            check(ncclCommDestroy(comm), "ncclCommDestroy on gpu" + device);
        }
    }

    private static void check(int status, String call) {
        if (status != ncclSuccess) {
            throw new CudaException(call + " failed: " + ncclGetErrorString(status).getString() + " (ncclResult " + status + ")");
        }
    }
}
