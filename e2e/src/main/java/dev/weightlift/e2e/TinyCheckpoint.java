package dev.weightlift.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A safetensors checkpoint of the test engine's {@code TinyModel} (F32): {@code embed.weight},
 * {@code layers.N.{proj.weight,proj.bias,norm.weight,norm.bias}}, {@code lm_head.weight}; one file for the
 * embedding, one for the head, one per layer. Values are random per version; the sha256 of every tensor is
 * kept to check the engines against.
 */
public final class TinyCheckpoint {

    /** The model's shape, as the engine is started with it. */
    public record Shape(int vocab, int hidden, int layers) {
        public long bytes() {
            return 4L * (2L * vocab * hidden + layers * ((long) hidden * hidden + 3L * hidden));
        }
    }

    private final Path directory;
    private final Map<String, String> sha256;
    private final long bytes;

    private TinyCheckpoint(Path directory, Map<String, String> sha256, long bytes) {
        this.directory = directory;
        this.sha256 = Map.copyOf(sha256);
        this.bytes = bytes;
    }

    public static TinyCheckpoint write(Path directory, Shape shape, String version) throws IOException {
        Files.createDirectories(directory);
        SplittableRandom random = new SplittableRandom(version.hashCode() * 31L + 7);
        Map<String, String> sha = new LinkedHashMap<>();
        long total = 0;
        List<Map<String, long[]>> files = new ArrayList<>();
        files.add(Map.of("embed.weight", new long[] {shape.vocab(), shape.hidden()}));
        files.add(Map.of("lm_head.weight", new long[] {shape.vocab(), shape.hidden()}));
        for (int l = 0; l < shape.layers(); l++) {
            Map<String, long[]> layer = new LinkedHashMap<>();
            layer.put("layers." + l + ".proj.weight", new long[] {shape.hidden(), shape.hidden()});
            layer.put("layers." + l + ".proj.bias", new long[] {shape.hidden()});
            layer.put("layers." + l + ".norm.weight", new long[] {shape.hidden()});
            layer.put("layers." + l + ".norm.bias", new long[] {shape.hidden()});
            files.add(layer);
        }
        for (int f = 0; f < files.size(); f++) {
            total += writeFile(directory.resolve(String.format("model-%05d-of-%05d.safetensors", f + 1, files.size())), files.get(f),
                    random, sha);
        }
        return new TinyCheckpoint(directory, sha, total);
    }

    private static long writeFile(Path path, Map<String, long[]> tensors, SplittableRandom random, Map<String, String> sha)
            throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, long[]> t : tensors.entrySet()) {
            long n = 4 * elements(t.getValue());
            header.put(t.getKey(), Map.of("dtype", "F32", "shape", t.getValue(), "data_offsets", List.of(offset, offset + n)));
            offset += n;
        }
        byte[] json = new ObjectMapper().writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        java.util.Arrays.fill(headerBytes, (byte) ' ');
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        try (OutputStream out = Files.newOutputStream(path)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(headerBytes);
            for (Map.Entry<String, long[]> t : tensors.entrySet()) {
                MessageDigest digest = newDigest();
                ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                for (long left = elements(t.getValue()); left > 0; ) {
                    chunk.clear();
                    int n = (int) Math.min(left, chunk.capacity() / 4);
                    for (int i = 0; i < n; i++) {
                        chunk.putFloat((float) (random.nextDouble() * 2 - 1));
                    }
                    digest.update(chunk.array(), 0, n * 4);
                    out.write(chunk.array(), 0, n * 4);
                    left -= n;
                }
                sha.put(t.getKey(), HexFormat.of().formatHex(digest.digest()));
            }
        }
        return offset;
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path directory() {
        return directory;
    }

    /** sha256 (hex) of every tensor's raw bytes, by name. */
    public Map<String, String> sha256() {
        return sha256;
    }

    public long bytes() {
        return bytes;
    }
}
