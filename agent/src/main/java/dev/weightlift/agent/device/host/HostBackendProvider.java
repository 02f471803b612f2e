package dev.weightlift.agent.device.host;

import dev.weightlift.agent.AgentEnvironment;
import dev.weightlift.agent.BackendProvider;
import dev.weightlift.agent.device.DeviceBackend;

/**
 * {@code WEIGHTLIFT_BACKEND=host}: fake GPUs as shared-memory files. Its own settings ({@code WEIGHTLIFT_HOST_GPUS},
 * {@code WEIGHTLIFT_HOST_GPU_MEMORY}, {@code WEIGHTLIFT_SHM_DIR}) come from the environment like the contract's.
 */
public final class HostBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "host";
    }

    @Override
    public DeviceBackend open(AgentEnvironment environment) {
        return new HostBackend(HostBackendConfig.fromEnvironment(System.getenv()));
    }
}
