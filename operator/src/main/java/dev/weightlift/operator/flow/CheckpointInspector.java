package dev.weightlift.operator.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightlift.operator.plan.TensorMeta;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Reads the tensor table of a safetensors checkpoint directory from its file headers (the files named by
 * {@code model.safetensors.index.json}, else every {@code *.safetensors} file), so the operator can assign
 * files to nodes before anything is loaded. {@code buffer} of each tensor is its file name. The agents read
 * the same headers strictly again when they load.
 */
public final class CheckpointInspector {

    static final String INDEX_FILE = "model.safetensors.index.json";
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private CheckpointInspector() {
    }

    public static List<TensorMeta> read(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new IOException("checkpoint directory " + directory + " does not exist or is not visible to the operator");
        }
        List<TensorMeta> tensors = new ArrayList<>();
        for (String file : files(directory)) {
            tensors.addAll(header(directory.resolve(file), file));
        }
        if (tensors.isEmpty()) {
            throw new IOException("checkpoint " + directory + " holds no tensors");
        }
        return tensors;
    }

    private static List<String> files(Path directory) throws IOException {
        Path index = directory.resolve(INDEX_FILE);
        if (Files.exists(index)) {
            JsonNode weightMap = JSON.readTree(index.toFile()).path("weight_map");
            if (!weightMap.isObject()) {
                throw new IOException(index + ": no weight_map object");
            }
            TreeSet<String> files = new TreeSet<>();
            weightMap.elements().forEachRemaining(v -> files.add(v.asText()));
            return List.copyOf(files);
        }
        try (Stream<Path> listing = Files.list(directory)) {
            List<String> files = listing.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).sorted().toList();
            if (files.isEmpty()) {
                throw new IOException(directory + ": no " + INDEX_FILE + " and no *.safetensors files");
            }
            return files;
        }
    }

    private static List<TensorMeta> header(Path path, String file) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] prefix = in.readNBytes(8);
            if (prefix.length < 8) {
                throw new IOException(path + ": shorter than a safetensors header");
            }
            long length = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (length <= 0 || length > MAX_HEADER_BYTES) {
                throw new IOException(path + ": safetensors header length " + length + " out of range");
            }
            byte[] json = in.readNBytes((int) length);
            if (json.length < length) {
                throw new IOException(path + ": header of " + length + " bytes is truncated");
            }
            List<TensorMeta> tensors = new ArrayList<>();
            Iterator<Map.Entry<String, JsonNode>> fields = JSON.readTree(json).fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                if (field.getKey().equals("__metadata__")) {
                    continue;
                }
                JsonNode t = field.getValue();
                JsonNode offsets = t.path("data_offsets");
                if (!t.path("dtype").isTextual() || !t.path("shape").isArray() || offsets.size() != 2) {
                    throw new IOException(path + ": tensor '" + field.getKey() + "' lacks dtype, shape or data_offsets");
                }
                List<Long> shape = new ArrayList<>();
                t.path("shape").forEach(d -> shape.add(d.asLong()));
                long begin = offsets.get(0).asLong();
                long end = offsets.get(1).asLong();
                if (end < begin || begin < 0) {
                    throw new IOException(path + ": tensor '" + field.getKey() + "' has data_offsets [" + begin + ", " + end + "]");
                }
                tensors.add(new TensorMeta(field.getKey(), t.path("dtype").asText(), shape, end - begin, file, begin));
            }
            return tensors;
        }
    }
}
