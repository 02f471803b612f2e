package dev.weightlift.agent.bench;

import dev.weightlift.agent.device.cuda.CudaGpu;
import dev.weightlift.agent.device.cuda.NcclCollective;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * How the benchmark's agent processes agree on an NCCL communicator without an operator: rank 0 makes the
 * unique id (and so runs NCCL's bootstrap root) and writes it to a file that the other ranks wait for.
 */
final class NcclRendezvous {

    private static final Duration WAIT = Duration.ofMinutes(2);

    private NcclRendezvous() {
    }

    static NcclCollective join(CudaGpu gpu, int rank, int ranks, Path idFile) throws Exception {
        byte[] id;
        if (rank == 0) {
            id = NcclCollective.newUniqueId();
            Path tmp = idFile.resolveSibling(idFile.getFileName() + ".tmp");
            Files.write(tmp, id);
            Files.move(tmp, idFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } else {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!Files.exists(idFile)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("rank " + rank + ": no NCCL unique id in " + idFile + " after " + WAIT);
                }
                Thread.sleep(20);
            }
            id = Files.readAllBytes(idFile);
        }
        return NcclCollective.join(gpu, id, rank, ranks);
    }
}
