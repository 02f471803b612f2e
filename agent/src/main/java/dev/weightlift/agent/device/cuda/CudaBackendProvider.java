package dev.weightlift.agent.device.cuda;

import dev.weightlift.agent.AgentEnvironment;
import dev.weightlift.agent.BackendProvider;
import dev.weightlift.agent.device.DeviceBackend;

/**
 * {@code WEIGHTLIFT_BACKEND=cuda}: the node's GPUs through CUDA and NCCL, pinned host memory up to
 * {@code WEIGHTLIFT_HOST_MEMORY_LIMIT} (unset: no budget of the agent's own; the OS's limit on locked
 * memory applies). Opening fails with {@link CudaUnavailableException} on a node without CUDA.
 */
public final class CudaBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public DeviceBackend open(AgentEnvironment environment) {
        return CudaBackend.open(environment.hostMemoryLimit().orElse(Long.MAX_VALUE));
    }
}
