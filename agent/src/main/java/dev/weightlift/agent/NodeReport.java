package dev.weightlift.agent;

import dev.weightlift.agent.control.AgentReport;
import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.GpuInfo;
import dev.weightlift.protocol.NicInfo;
import dev.weightlift.protocol.Register;
import java.util.List;
import java.util.Objects;

/** The agent's registration and heartbeat state, from its environment, its backend's GPUs and its status sources. */
final class NodeReport implements AgentReport {

    private final AgentEnvironment environment;
    private final String session;
    private final DeviceBackend backend;
    private final List<NicInfo> nics;
    private volatile StatusSources sources = StatusSources.NONE;

    NodeReport(AgentEnvironment environment, String session, DeviceBackend backend, List<NicInfo> nics) {
        this.environment = environment;
        this.session = session;
        this.backend = backend;
        this.nics = List.copyOf(nics);
    }

    void sources(StatusSources newSources) {
        this.sources = Objects.requireNonNull(newSources, "sources");
    }

    @Override
    public Register registration() {
        AgentState state = state();
        return new Register(environment.nodeName(), session, backend.name(), environment.hostIp(),
                environment.p2pPort(), environment.socketDir().toString(), state.gpus(), nics, state);
    }

    @Override
    public AgentState state() {
        StatusSources current = sources;
        List<GpuInfo> gpus = backend.gpus().stream().map(NodeReport::gpuInfo).toList();
        return new AgentState(gpus, current.checkpoints(), current.engines(), current.activeUpdates(),
                current.storeBytesUsed(), current.storeBytesLimit());
    }

    private static GpuInfo gpuInfo(Gpu gpu) {
        return new GpuInfo(gpu.index(), gpu.uuid(), gpu.totalMemory(), gpu.freeMemory());
    }
}
