package dev.weightlift.operator.plan;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;
import java.util.Objects;

/**
 * One GPU taking part in an update, as its node's agent reports it.
 *
 * @param node            Kubernetes node name (the agent's identity)
 * @param gpuIndex        device index on the node
 * @param gpuUuid         CUDA UUID ({@code GPU-...}), how engine workers are matched
 * @param freeMemoryBytes free device memory right now
 * @param nics            NICs (RDMA device names) this GPU is affine to; empty when it has none, then the
 *                        host address stands for its one network path
 * @param hostAddress     the node's address for P2P reads
 */
public record Participant(String node, int gpuIndex, String gpuUuid, long freeMemoryBytes, List<String> nics,
                          String hostAddress) {

    public Participant {
        Objects.requireNonNull(node, "participant node");
        Objects.requireNonNull(gpuUuid, () -> "gpuUuid of " + node + "/gpu" + gpuIndex);
        Objects.requireNonNull(hostAddress, () -> "hostAddress of " + node + "/gpu" + gpuIndex);
        nics = List.copyOf(Objects.requireNonNull(nics, () -> "nics of " + node + "/gpu" + gpuIndex));
        if (freeMemoryBytes < 0) {
            throw new PlanException(node + "/gpu" + gpuIndex + ": negative freeMemoryBytes " + freeMemoryBytes);
        }
    }

    /** Stable identity used in plans: {@code node/gpuN}. */
    @JsonIgnore
    public String id() {
        return node + "/gpu" + gpuIndex;
    }

    /** Network links of this GPU, each named {@code node/nic}, or {@code node/hostAddress} without RDMA NICs. */
    @JsonIgnore
    public List<String> links() {
        if (nics.isEmpty()) {
            return List.of(node + "/" + hostAddress);
        }
        return nics.stream().map(nic -> node + "/" + nic).toList();
    }
}
