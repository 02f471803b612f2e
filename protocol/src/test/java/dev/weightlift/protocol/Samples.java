package dev.weightlift.protocol;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/** One message of every type, with every field set, for round-trip and fuzz tests. */
final class Samples {

    private Samples() {
    }

    static AgentState state() {
        return new AgentState(
                List.of(new GpuInfo(0, "GPU-aaaa", 80L << 30, 70L << 30), new GpuInfo(1, "GPU-bbbb", 80L << 30, 60L << 30)),
                List.of(new HeldCheckpoint("llama", "step-7", 123456789L)),
                List.of(new EngineInfo("inference", "vllm-0", List.of("GPU-aaaa", "GPU-bbbb"))),
                List.of("ns/update-1"), 123456789L, 64L << 30);
    }

    static List<Message> all() {
        JsonNodeFactory json = JsonNodeFactory.instance;
        ObjectNode tensors = json.objectNode();
        tensors.putArray("names").add("model.embed.weight").add("lm_head.weight");
        tensors.putArray("shapes").add(json.arrayNode().add(1024).add(64)).add(json.arrayNode().add(1024).add(64));
        ObjectNode work = json.objectNode().put("rank", 1).put("worldSize", 8);
        return List.of(
                new Register("node-a", "s-1", "host", "10.0.0.5", 7200, "/run/weightlift",
                        state().gpus(), List.of(new NicInfo("eth0", "10.0.0.5", 100_000_000_000L)), state()),
                new Registered("hub-1", 1000),
                new NotRegistered("hub restarted"),
                new Heartbeat(state()),
                new Heartbeat(null),
                new Goodbye("shutting down"),
                new LoadCheckpoint("llama", "step-7", "/ckpt/step-7", List.of("model-00001.safetensors")),
                new CheckpointLoaded("llama", "step-7", 123456789L, tensors),
                new PrepareUpdate("ns/update-1", "llama", "step-7", work),
                new UpdatePrepared("ns/update-1", json.objectNode().put("ncclId", "AAAA")),
                new RunUpdate("ns/update-1", work),
                new UpdateProgress("ns/update-1", 1 << 20, 1 << 30, 1, 1024, Map.of("h2d", 12L, "broadcast", 7L)),
                new UpdateResult("ns/update-1", false,
                        List.of(new TargetOutcome("GPU-aaaa", "pod-0", true, null),
                                new TargetOutcome("GPU-bbbb", "pod-0", false, "engine closed the socket")),
                        "1 of 2 workers failed", Map.of("transfer", 1200L)),
                new AbortUpdate("ns/update-1", "superseded by ns/update-2"),
                new ReleaseCheckpoint("llama", "step-6"),
                new ExposeCheckpoint("llama", "step-7"),
                new CheckpointExposed("llama", "step-7", "10.0.0.5", 7200, List.of("AAAA", "BBBB"), tensors),
                new FetchCheckpoint("ns/update-1/scale-up/pod-3", "llama", "step-7", work),
                new KeepCheckpoints(List.of(new KeepCheckpoints.Kept("llama", "step-7"))),
                new Ack(),
                new Failure("file model-00001.safetensors: header length 99999999999 is over the file size"));
    }
}
