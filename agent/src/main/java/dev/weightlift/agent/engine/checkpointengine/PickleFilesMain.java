package dev.weightlift.agent.engine.checkpointengine;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.TensorEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the checkpoint-engine messages for a real CUDA IPC handle to files, so that torch on the GPU machine
 * (which has no pyzmq) can unpickle exactly the bytes the agent would send: {@code agent/bench/gpu-checkpoint-engine.sh}.
 *
 * <p>Usage: {@code PickleFilesMain HANDLE_FILE GPU_UUID SIZE_BYTES DEVICE_INDEX OUT_DIR}; HANDLE_FILE holds the
 * 64-byte {@code cudaIpcMemHandle_t} of a whole {@code cudaMalloc} allocation of SIZE_BYTES (at least 4 MiB).
 */
public final class PickleFilesMain {

    private static final long MIB = 1L << 20;

    private PickleFilesMain() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: PickleFilesMain HANDLE_FILE GPU_UUID SIZE_BYTES DEVICE_INDEX OUT_DIR");
            System.exit(2);
        }
        byte[] ipcHandle = Files.readAllBytes(Path.of(args[0]));
        long size = Long.parseLong(args[2]);
        int device = Integer.parseInt(args[3]);
        Path out = Files.createDirectories(Path.of(args[4]));
        if (size < 4 * MIB) {
            throw new IllegalArgumentException("the buffer must hold at least 4 MiB, got " + size);
        }
        ShareHandle handle = ShareHandle.cudaIpc(args[1], size, ipcHandle);
        List<TensorEntry> bucket = List.of(
                new TensorEntry("model.embed_tokens.weight", "BF16", new long[] {1024, 512}, 0, MIB),
                new TensorEntry("model.layers.0.input_layernorm.weight", "F32", new long[] {3, 5, 7}, MIB + 256,
                        420),
                new TensorEntry("model.layers.0.mlp.experts.w13", "F8_E4M3", new long[] {64, 64}, 2 * MIB, 4096),
                new TensorEntry("model.layers.0.self_attn.scale", "F16", new long[] {}, 3 * MIB, 2),
                new TensorEntry("lm_head.bias", "I64", new long[] {2}, size - 16, 16));

        Files.write(out.resolve("shared_buffer.pkl"), CheckpointEngineMessages.sharedBuffer(handle, device));
        Files.write(out.resolve("bucket.pkl"), CheckpointEngineMessages.bucket(bucket));
        Files.write(out.resolve("release.pkl"), CheckpointEngineMessages.none());
        Files.write(out.resolve("post_hook.pkl"), CheckpointEngineMessages.none());
        Files.write(out.resolve("error.pkl"), CheckpointEngineMessages.runtimeError("weightlift aborted the update"));
        List<Map<String, Object>> expected = new ArrayList<>();
        for (TensorEntry t : bucket) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", t.name());
            e.put("dtype", TorchDtypes.torchName(t.dtype(), t.name()));
            e.put("shape", t.shape());
            e.put("offset", t.offset());
            e.put("nbytes", t.nbytes());
            expected.add(e);
        }
        new ObjectMapper().writeValue(out.resolve("bucket.json").toFile(), expected);
        System.out.println("wrote the checkpoint-engine messages for " + handle + " to " + out);
    }
}
