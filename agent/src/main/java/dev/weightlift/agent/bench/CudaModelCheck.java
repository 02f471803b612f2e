package dev.weightlift.agent.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.SharedRegion;
import dev.weightlift.agent.device.cuda.CudaBackend;
import dev.weightlift.agent.device.cuda.CudaGpu;
import dev.weightlift.agent.store.safetensors.SafetensorsHeader;
import dev.weightlift.agent.store.safetensors.SafetensorsReader;
import dev.weightlift.agent.store.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A real model through the cuda backend: the safetensors file made by {@code agent/bench/make_model.py}
 * is read into pinned memory, moved bucket by bucket (tensors never split) through the double-buffered
 * CUDA IPC buffer into a stand-in engine process whose model started from other random weights; the
 * engine's logits must then equal the reference bit for bit (and must differ before the update).
 * Usage: CudaModelCheck --dir DIR --engine agent/bench/engine_consumer.py [--bucket 16Mi]
 */
public final class CudaModelCheck {

    private static final Duration STEP = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper();

    private CudaModelCheck() {
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args = new BenchArgs(argv);
        Path dir = Path.of(args.text("dir"));
        long slot = args.bytes("bucket", "16Mi");
        Path file = dir.resolve("model.safetensors");
        SafetensorsHeader header = SafetensorsReader.read(file);
        List<List<TensorInfo>> buckets = buckets(header.tensors(), slot);
        try (CudaBackend backend = CudaBackend.open(Long.MAX_VALUE)) {
            CudaGpu gpu = backend.gpu(0);
            try (BenchEngine engine = BenchEngine.start(Path.of(args.text("engine")), gpu.uuid(), Duration.ofMinutes(3));
                    MemoryRegion host = backend.hostAllocator().allocatePinned(header.dataLength());
                    SharedRegion shared = gpu.allocateShared(2 * slot);
                    CopyStream h2d = gpu.newStream("h2d")) {
                engine.call("model " + Files.readString(dir.resolve("config.json")).trim() + " 2", STEP);
                String before = engine.call("logits " + dir.resolve("reference.pt"), STEP);
                readData(file, header, host);
                engine.call("open " + HexFormat.of().formatHex(shared.handle().ipcHandle()) + " " + shared.size(), STEP);
                for (int g = 0; g < buckets.size(); g++) {
                    List<TensorInfo> bucket = buckets.get(g);
                    long first = bucket.get(0).begin();
                    long base = (g % 2) * slot;
                    h2d.copy(host, first, shared, base, bucket.get(bucket.size() - 1).end() - first);
                    h2d.synchronize();
                    if (g > 0) {
                        engine.awaitReply("tensors of bucket " + (g - 1), STEP, "ok");
                    }
                    engine.send("tensors " + entries(bucket, base - first));
                }
                engine.awaitReply("tensors of bucket " + (buckets.size() - 1), STEP, "ok");
                String after = engine.call("logits " + dir.resolve("reference.pt"), STEP);
                System.out.printf("model_tensors=%d model_bytes=%d buckets=%d logits_before=%s logits_after=%s%n",
                        header.tensors().size(), header.dataLength(), buckets.size(), before, after);
                boolean ok = before.startsWith("differ") && after.equals("equal");
                System.out.println("model_logits_equal=" + ok);
                if (!ok) {
                    System.exit(1);
                }
            }
        }
    }

    /** Consecutive tensors packed into buckets of at most {@code slot} bytes; a tensor is never split. */
    static List<List<TensorInfo>> buckets(List<TensorInfo> tensors, long slot) {
        List<List<TensorInfo>> buckets = new ArrayList<>();
        List<TensorInfo> current = new ArrayList<>();
        for (TensorInfo t : tensors) {
            if (t.nbytes() > slot) {
                throw new IllegalArgumentException("tensor " + t.name() + " of " + t.nbytes() + " bytes does not fit a " + slot + "-byte slot");
            }
            if (!current.isEmpty() && t.end() - current.get(0).begin() > slot) {
                buckets.add(current);
                current = new ArrayList<>();
            }
            current.add(t);
        }
        if (!current.isEmpty()) {
            buckets.add(current);
        }
        return buckets;
    }

    private static String entries(List<TensorInfo> bucket, long shift) throws IOException {
        List<Map<String, Object>> list = new ArrayList<>();
        for (TensorInfo t : bucket) {
            list.add(Map.of("name", t.name(), "dtype", t.dtype().name(), "shape", t.shape(), "offset", t.begin() + shift));
        }
        return JSON.writeValueAsString(list);
    }

    private static void readData(Path file, SafetensorsHeader header, MemoryRegion host) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long done = 0;
            while (done < header.dataLength()) {
                int chunk = (int) Math.min(1 << 30, header.dataLength() - done);
                ByteBuffer view = host.view(done, chunk);
                while (view.hasRemaining()) {
                    if (channel.read(view, header.dataStart() + done + view.position()) < 0) {
                        throw new IOException(file + " ends before its data region does");
                    }
                }
                done += chunk;
            }
        }
    }
}
