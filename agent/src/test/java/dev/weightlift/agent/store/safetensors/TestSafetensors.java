package dev.weightlift.agent.store.safetensors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** A tiny safetensors writer for tests: tensors in the order added, header padded to 8 bytes with spaces. */
public final class TestSafetensors {

    public record Tensor(String name, String dtype, long[] shape, byte[] data) {
    }

    private final List<Tensor> tensors = new ArrayList<>();
    private Map<String, String> metadata = Map.of();

    public TestSafetensors add(String name, String dtype, long[] shape, byte[] data) {
        tensors.add(new Tensor(name, dtype, shape, data));
        return this;
    }

    /** Adds a tensor of {@code dtype} with random content of the right size. */
    public TestSafetensors add(String name, Dtype dtype, long[] shape, Random random) {
        long elements = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        byte[] data = new byte[(int) dtype.bytesFor(elements)];
        random.nextBytes(data);
        return add(name, dtype.name(), shape, data);
    }

    public TestSafetensors metadata(Map<String, String> values) {
        this.metadata = values;
        return this;
    }

    public List<Tensor> tensors() {
        return List.copyOf(tensors);
    }

    public String headerJson() {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append("\"__metadata__\":{");
            String sep = "";
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                json.append(sep).append('"').append(e.getKey()).append("\":\"").append(e.getValue()).append('"');
                sep = ",";
            }
            json.append("}");
            if (!tensors.isEmpty()) {
                json.append(',');
            }
        }
        long offset = 0;
        String sep = "";
        for (Tensor t : tensors) {
            json.append(sep).append('"').append(t.name()).append("\":{\"dtype\":\"").append(t.dtype())
                    .append("\",\"shape\":").append(Arrays.toString(t.shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + t.data().length).append("]}");
            offset += t.data().length;
            sep = ",";
        }
        return json.append('}').toString();
    }

    public byte[] dataBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tensors.forEach(t -> out.writeBytes(t.data()));
        return out.toByteArray();
    }

    public byte[] toBytes() {
        return file(headerJson(), dataBytes());
    }

    public Path write(Path file) throws IOException {
        return Files.write(file, toBytes());
    }

    /** A file made of {@code header} (padded to 8 bytes) and {@code data}, valid or not. */
    public static byte[] file(String header, byte[] data) {
        return file(header.getBytes(StandardCharsets.UTF_8), data);
    }

    /** A file made of the raw {@code json} bytes (padded to 8 bytes) and {@code data}. */
    public static byte[] file(byte[] json, byte[] data) {
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        return out.put(data).array();
    }
}
