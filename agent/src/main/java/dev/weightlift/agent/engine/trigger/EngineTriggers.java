package dev.weightlift.agent.engine.trigger;

import dev.weightlift.agent.engine.EngineProtocol;
import dev.weightlift.agent.engine.EngineType;
import java.net.URI;

/** Picks the {@link EngineTrigger} for the CR's {@code engine} fields. */
public final class EngineTriggers {

    private EngineTriggers() {
    }

    /**
     * The trigger of the engine instance at {@code http://host:port/}; {@code triggerPath} (the CR's
     * {@code engine.triggerPath}, null for the default) replaces the update call's path.
     *
     * @throws IllegalArgumentException for SGLang with the native protocol (SGLang has no worker-extension hook)
     */
    public static EngineTrigger create(EngineType type, EngineProtocol protocol, String host, int port,
            String triggerPath) {
        return create(type, protocol, new EngineHttp(name(type), URI.create("http://" + host + ":" + port + "/"),
                EngineHttp.DEFAULT_POLL_INTERVAL, EngineHttp.DEFAULT_RESPONSE_MARGIN), triggerPath);
    }

    /** As {@link #create(EngineType, EngineProtocol, String, int, String)}, over a given {@link EngineHttp}. */
    public static EngineTrigger create(EngineType type, EngineProtocol protocol, EngineHttp http, String triggerPath) {
        return switch (type) {
            case VLLM -> protocol == EngineProtocol.NATIVE
                    ? new VllmNativeTrigger(http, orDefault(triggerPath, VllmNativeTrigger.DEFAULT_PATH))
                    : new VllmCheckpointEngineTrigger(http, orDefault(triggerPath, VllmCheckpointEngineTrigger.DEFAULT_PATH));
            case SGLANG -> {
                if (protocol != EngineProtocol.CHECKPOINT_ENGINE) {
                    throw new IllegalArgumentException("engine.type sglang has no worker-extension hook for the "
                            + protocol.crName() + " protocol: set engine.protocol to checkpoint-engine");
                }
                yield new SglangIpcTrigger(http, orDefault(triggerPath, SglangIpcTrigger.DEFAULT_PATH));
            }
        };
    }

    /** How messages name the engine kind. */
    public static String name(EngineType type) {
        return type == EngineType.VLLM ? "vLLM" : "SGLang";
    }

    private static String orDefault(String path, String defaultPath) {
        return path == null || path.isBlank() ? defaultPath : path;
    }
}
