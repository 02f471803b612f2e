package dev.weightlift.agent.engine;

import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.engine.trigger.TriggerRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How one engine protocol reaches the workers of an update on this node: it opens a {@link WorkerChannel}
 * per GPU and says what the engine's trigger must carry so that every worker finds its channel.
 * Native: channels registered on the agent's channel server by update id and GPU UUID, the trigger carries
 * the server's endpoint. Checkpoint-engine: one bound ZMQ socket per GPU, the trigger carries their addresses.
 */
public interface EngineConnector {

    EngineProtocol protocol();

    /** Whether the protocol carries a checksum per bucket ({@code verify: Checksum}). */
    boolean carriesChecksums();

    /**
     * Opens one channel per GPU of {@code gpus}, in that order; the caller closes them. Throws naming the
     * problem, as {@link EngineProtocolUnsupportedException} when this agent cannot serve the protocol (e.g.
     * checkpoint-engine on the host backend).
     */
    List<WorkerChannel> open(String update, List<Gpu> gpus) throws EngineException;

    /**
     * What another node's trigger needs to reach {@code channels} (GPU UUID → address): the checkpoint-engine
     * protocol's socket addresses; empty for the native protocol, whose workers find their own node's agent.
     */
    Map<String, String> workerAddresses(List<WorkerChannel> channels);

    /**
     * What the trigger hands the engine so that every worker of the instance connects: {@code workerAddresses}
     * holds those of every GPU of the instance (this node's and other nodes'), where the protocol uses them.
     */
    TriggerRequest request(String update, String version, Map<String, String> workerAddresses, Duration timeout);
}
