package dev.weightlift.agent.store.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strict reader of safetensors headers: the 8-byte little-endian header length (capped before anything is
 * allocated), a JSON object without duplicate keys or unknown fields, every dtype safetensors defines, shapes
 * consistent with sizes, and data offsets that cover the data region exactly, without gap or overlap.
 * Reads only the header; the data stays in the file.
 */
public final class SafetensorsReader {

    /** The largest header accepted, as in safetensors ({@code MAX_HEADER_SIZE}). */
    public static final long MAX_HEADER_BYTES = 100_000_000;

    private static final String METADATA_KEY = "__metadata__";
    private static final Set<String> TENSOR_FIELDS = Set.of("dtype", "shape", "data_offsets");
    /** Strict JSON for headers and index files: no duplicate keys, nothing after the value, shallow nesting. */
    static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private SafetensorsReader() {
    }

    public static SafetensorsHeader read(Path file) throws IOException {
        String name = file.toString();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                checkHeaderLength(name, -1, size);
            }
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, prefix, 0, name);
            long headerLength = checkHeaderLength(name, prefix.getLong(0), size);
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8, name);
            return parse(name, header.array(), size);
        }
    }

    /** Reads the header of a whole file held in memory (what the fuzz test drives). */
    public static SafetensorsHeader read(String name, byte[] file) throws SafetensorsException {
        long headerLength = checkHeaderLength(name, file.length < 8 ? -1
                : ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(), file.length);
        byte[] header = new byte[(int) headerLength];
        System.arraycopy(file, 8, header, 0, header.length);
        return parse(name, header, file.length);
    }

    private static long checkHeaderLength(String name, long headerLength, long fileSize) throws SafetensorsException {
        if (fileSize < 8) {
            throw new SafetensorsException(name, null, "the file has " + fileSize
                    + " bytes, fewer than the 8-byte header length");
        }
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
            throw new SafetensorsException(name, null, "header length " + Long.toUnsignedString(headerLength)
                    + " is outside 2.." + MAX_HEADER_BYTES + " bytes");
        }
        if (headerLength > fileSize - 8) {
            throw new SafetensorsException(name, null, "header length " + headerLength
                    + " passes the end of the file (" + fileSize + " bytes)");
        }
        return headerLength;
    }

    private static SafetensorsHeader parse(String name, byte[] header, long fileSize) throws SafetensorsException {
        if (header[0] != '{') {
            throw new SafetensorsException(name, null, "the header does not start with '{'");
        }
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (IOException e) {
            throw new SafetensorsException(name, null, "the header is not valid JSON: " + firstLine(e.getMessage()), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(name, null, "the header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA_KEY)) {
                readMetadata(name, field.getValue(), metadata);
            } else {
                tensors.add(readTensor(name, field.getKey(), field.getValue()));
            }
        }
        tensors.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long dataLength = fileSize - 8 - header.length;
        checkCoverage(name, tensors, dataLength);
        return new SafetensorsHeader(name, 8L + header.length, dataLength, metadata, tensors);
    }

    private static void readMetadata(String name, JsonNode node, Map<String, String> into) throws SafetensorsException {
        if (!node.isObject()) {
            throw new SafetensorsException(name, null, METADATA_KEY + " is not an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (!entry.getValue().isTextual()) {
                throw new SafetensorsException(name, null, METADATA_KEY + " value of '" + entry.getKey()
                        + "' is not a string");
            }
            into.put(entry.getKey(), entry.getValue().textValue());
        }
    }

    private static TensorInfo readTensor(String file, String tensor, JsonNode node) throws SafetensorsException {
        if (!node.isObject()) {
            throw new SafetensorsException(file, tensor, "the entry is not an object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String field = it.next();
            if (!TENSOR_FIELDS.contains(field)) {
                throw new SafetensorsException(file, tensor, "unknown field '" + field + "'");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafetensorsException(file, tensor, "dtype is missing or not a string");
        }
        Dtype dtype = Dtype.byName(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafetensorsException(file, tensor, "unknown dtype '" + dtypeNode.textValue() + "'");
        }
        long[] shape = longs(file, tensor, node.get("shape"), "shape", -1);
        long[] offsets = longs(file, tensor, node.get("data_offsets"), "data_offsets", 2);
        if (offsets[1] < offsets[0]) {
            throw new SafetensorsException(file, tensor, "data_offsets [" + offsets[0] + ", " + offsets[1]
                    + "] end before they begin");
        }
        long expected;
        try {
            long elements = 1;
            for (long dim : shape) {
                elements = Math.multiplyExact(elements, dim);
            }
            expected = dtype.bytesFor(elements);
        } catch (ArithmeticException e) {
            throw new SafetensorsException(file, tensor, "shape " + Arrays.toString(shape)
                    + " overflows 64 bits");
        } catch (IllegalArgumentException e) {
            throw new SafetensorsException(file, tensor, e.getMessage());
        }
        if (expected != offsets[1] - offsets[0]) {
            throw new SafetensorsException(file, tensor, "shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + expected + " bytes but data_offsets span " + (offsets[1] - offsets[0]));
        }
        return new TensorInfo(tensor, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] longs(String file, String tensor, JsonNode node, String field, int length)
            throws SafetensorsException {
        if (node == null || !node.isArray()) {
            throw new SafetensorsException(file, tensor, field + " is missing or not an array");
        }
        if (length >= 0 && node.size() != length) {
            throw new SafetensorsException(file, tensor, field + " has " + node.size() + " entries, not " + length);
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode value = node.get(i);
            if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0) {
                throw new SafetensorsException(file, tensor, field + "[" + i + "] = " + value
                        + " is not a non-negative 64-bit integer");
            }
            values[i] = value.longValue();
        }
        return values;
    }

    private static void checkCoverage(String file, List<TensorInfo> sorted, long dataLength)
            throws SafetensorsException {
        long covered = 0;
        TensorInfo previous = null;
        for (TensorInfo tensor : sorted) {
            if (tensor.begin() < covered) {
                throw new SafetensorsException(file, tensor.name(), "data [" + tensor.begin() + ", " + tensor.end()
                        + ") overlaps tensor '" + previous.name() + "' [" + previous.begin() + ", " + previous.end() + ")");
            }
            if (tensor.begin() > covered) {
                throw new SafetensorsException(file, tensor.name(), "data begins at " + tensor.begin() + ", leaving "
                        + (tensor.begin() - covered) + " bytes after " + (previous == null ? "the header"
                        : "tensor '" + previous.name() + "'") + " unused");
            }
            covered = tensor.end();
            previous = tensor;
        }
        if (covered != dataLength) {
            throw new SafetensorsException(file, previous == null ? null : previous.name(), "the tensors cover "
                    + covered + " bytes of the " + dataLength + "-byte data region; "
                    + (covered < dataLength ? "the file has trailing bytes" : "the file is truncated"));
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position, String name) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                throw new SafetensorsException(name, null, "the file ended while its header was read");
            }
            at += n;
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
