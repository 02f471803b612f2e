package dev.weightlift.agent.store.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sharded checkpoint's {@code model.safetensors.index.json}: which file of the directory holds each tensor.
 * File names must be plain names inside the directory.
 */
public record SafetensorsIndex(Path directory, Map<String, String> weightMap, Map<String, String> metadata) {

    public static final String FILE_NAME = "model.safetensors.index.json";

    private static final long MAX_INDEX_BYTES = 100_000_000;

    public SafetensorsIndex {
        weightMap = Map.copyOf(weightMap);
        metadata = Map.copyOf(metadata);
    }

    public static SafetensorsIndex read(Path indexFile) throws IOException {
        String name = indexFile.toString();
        if (Files.size(indexFile) > MAX_INDEX_BYTES) {
            throw new SafetensorsException(name, null, "the index is larger than " + MAX_INDEX_BYTES + " bytes");
        }
        JsonNode root;
        try {
            root = SafetensorsReader.JSON.readTree(Files.readAllBytes(indexFile));
        } catch (IOException e) {
            throw new SafetensorsException(name, null, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(name, null, "not a JSON object");
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new SafetensorsException(name, null, "weight_map is missing, empty or not an object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> entry = it.next();
            JsonNode file = entry.getValue();
            if (!file.isTextual() || !isPlainFileName(file.textValue())) {
                throw new SafetensorsException(name, entry.getKey(), "weight_map names " + file
                        + ", which is not a file name inside the directory");
            }
            weightMap.put(entry.getKey(), file.textValue());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) {
                throw new SafetensorsException(name, null, "metadata is not an object");
            }
            meta.fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().isTextual()
                    ? e.getValue().textValue() : e.getValue().toString()));
        }
        return new SafetensorsIndex(indexFile.getParent(), weightMap, metadata);
    }

    /** The shard files in the order they first appear in the weight map. */
    public List<Path> files() {
        Set<String> names = new LinkedHashSet<>(weightMap.values());
        return names.stream().map(directory::resolve).toList();
    }

    /**
     * Checks that the shards hold exactly the tensors the index assigns them.
     *
     * @param headers the headers of {@link #files()}
     */
    public void verify(List<SafetensorsHeader> headers) throws SafetensorsException {
        Map<String, String> found = new LinkedHashMap<>();
        for (SafetensorsHeader header : headers) {
            String fileName = Path.of(header.file()).getFileName().toString();
            for (TensorInfo tensor : header.tensors()) {
                String listed = weightMap.get(tensor.name());
                if (listed == null) {
                    throw new SafetensorsException(header.file(), tensor.name(), "not listed in " + FILE_NAME);
                }
                if (!listed.equals(fileName)) {
                    throw new SafetensorsException(header.file(), tensor.name(), FILE_NAME + " places it in " + listed);
                }
                found.put(tensor.name(), fileName);
            }
        }
        for (Map.Entry<String, String> entry : weightMap.entrySet()) {
            if (!found.containsKey(entry.getKey())) {
                throw new SafetensorsException(directory.resolve(entry.getValue()).toString(), entry.getKey(),
                        "listed in " + FILE_NAME + " but missing from the file");
            }
        }
    }

    private static boolean isPlainFileName(String name) {
        return !name.isEmpty() && !name.contains("/") && !name.contains("\\") && !name.equals(".") && !name.equals("..")
                && name.indexOf('\0') < 0;
    }
}
