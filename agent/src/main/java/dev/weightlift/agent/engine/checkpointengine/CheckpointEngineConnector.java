package dev.weightlift.agent.engine.checkpointengine;

import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.engine.EngineConnector;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.EngineProtocol;
import dev.weightlift.agent.engine.EngineProtocolUnsupportedException;
import dev.weightlift.agent.engine.WorkerChannel;
import dev.weightlift.agent.engine.trigger.TriggerRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.zeromq.ZContext;

/**
 * The checkpoint-engine protocol's {@link EngineConnector}: one {@link CheckpointEngineChannel} bound per GPU
 * on {@code host} (an address of this node the engine pods reach), their addresses in the trigger's
 * {@code {uuid: address}}. The protocol's workers open the shared buffer only as a CUDA IPC handle, so only
 * the {@code cuda} backend can serve it (agent/docs/checkpoint-engine-protocol.md §6).
 */
public final class CheckpointEngineConnector implements EngineConnector {

    private final ZContext context;
    private final String host;
    private final String backend;

    /** {@code backend}: the device backend's name ({@code DeviceBackend.name()}); the context is the caller's. */
    public CheckpointEngineConnector(ZContext context, String host, String backend) {
        this.context = context;
        this.host = host;
        this.backend = backend;
    }

    @Override
    public EngineProtocol protocol() {
        return EngineProtocol.CHECKPOINT_ENGINE;
    }

    @Override
    public boolean carriesChecksums() {
        return false;
    }

    @Override
    public List<WorkerChannel> open(String update, List<Gpu> gpus) throws EngineException {
        if (!"cuda".equals(backend)) {
            throw new EngineProtocolUnsupportedException("update " + update + ": engine.protocol checkpoint-engine requires the cuda backend"
                    + " (its workers open the shared buffer only as a CUDA IPC handle, through torch's"
                    + " rebuild_cuda_tensor); this agent runs the " + backend + " backend");
        }
        List<WorkerChannel> channels = new ArrayList<>();
        try {
            for (Gpu gpu : gpus) {
                channels.add(CheckpointEngineChannel.bind(context, host, gpu.uuid(), gpu.index()));
            }
        } catch (IllegalArgumentException e) {
            channels.forEach(WorkerChannel::close);
            throw new EngineException("update " + update + ": " + e.getMessage(), e);
        }
        return channels;
    }

    @Override
    public Map<String, String> workerAddresses(List<WorkerChannel> channels) {
        Map<String, String> addresses = new LinkedHashMap<>();
        for (WorkerChannel channel : channels) {
            addresses.put(channel.gpuUuid(), ((CheckpointEngineChannel) channel).address());
        }
        return addresses;
    }

    @Override
    public TriggerRequest request(String update, String version, Map<String, String> workerAddresses, Duration timeout) {
        return TriggerRequest.checkpointEngine(workerAddresses, update, version, timeout);
    }
}
