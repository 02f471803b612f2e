package dev.weightlift.agent.engine.nativeprotocol;

import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.engine.EngineConnector;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.EngineProtocol;
import dev.weightlift.agent.engine.WorkerChannel;
import dev.weightlift.agent.engine.trigger.TriggerRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The native protocol's {@link EngineConnector}: channels expected on the agent's {@link EngineChannelServer}. */
public final class NativeConnector implements EngineConnector {

    private final EngineChannelServer server;
    private final ChannelTimeouts timeouts;

    public NativeConnector(EngineChannelServer server, ChannelTimeouts timeouts) {
        this.server = server;
        this.timeouts = timeouts;
    }

    public NativeConnector(EngineChannelServer server) {
        this(server, ChannelTimeouts.defaults());
    }

    @Override
    public EngineProtocol protocol() {
        return EngineProtocol.NATIVE;
    }

    @Override
    public boolean carriesChecksums() {
        return true;
    }

    @Override
    public List<WorkerChannel> open(String update, List<Gpu> gpus) throws EngineException {
        List<WorkerChannel> channels = new ArrayList<>();
        try {
            for (Gpu gpu : gpus) {
                channels.add(server.expect(update, gpu.uuid(), timeouts));
            }
        } catch (IllegalStateException e) {
            channels.forEach(WorkerChannel::close);
            throw new EngineException("update " + update + ": " + e.getMessage(), e);
        }
        return channels;
    }

    @Override
    public Map<String, String> workerAddresses(List<WorkerChannel> channels) {
        return Map.of();
    }

    @Override
    public TriggerRequest request(String update, String version, Map<String, String> workerAddresses, Duration timeout) {
        return TriggerRequest.nativeProtocol(server.endpoint(), update, version, timeout);
    }
}
