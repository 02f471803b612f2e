package dev.weightlift.agent.engine.nativeprotocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.HostRange;
import dev.weightlift.agent.engine.TensorEntry;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The messages of protocol version 1 (agent/docs/engine-protocol.md §3): builders and field checks. */
public final class Messages {

    public static final int PROTOCOL_VERSION = 1;

    /** The {@code hello} feature of a worker that maps host-store files and reads tensors from them in place. */
    public static final String HOST_BUFFERS = "host-buffers";

    private Messages() {
    }

    /** A worker's {@code hello}, checked; {@code features} are the optional abilities it declared. */
    public record Hello(int protocol, String gpuUuid, long pid, String engine, String update, Set<String> features) {

        public Hello {
            features = Set.copyOf(features);
        }
    }

    public static Hello parseHello(Frame frame) throws ProtocolException {
        expectType(frame, "hello");
        ObjectNode json = frame.json();
        Set<String> features = new LinkedHashSet<>();
        JsonNode declared = json.get("features");
        if (declared != null) {
            if (!declared.isArray()) {
                throw new ProtocolException("'hello' message: 'features' must be a list of strings");
            }
            for (JsonNode feature : declared) {
                if (!feature.isTextual()) {
                    throw new ProtocolException("'hello' message: 'features' must be a list of strings, has " + feature);
                }
                features.add(feature.asText());
            }
        }
        return new Hello(requiredInt(json, "protocol", "hello"), requiredText(json, "gpu_uuid", "hello"),
                requiredInt(json, "pid", "hello"), json.path("engine").asText(""), requiredText(json, "update", "hello"),
                features);
    }

    public static Frame welcome(String update) {
        return new Frame(message("welcome").put("protocol", PROTOCOL_VERSION).put("update", update));
    }

    public static Frame share(ShareHandle handle) {
        return share(handle, List.of(), List.of());
    }

    /**
     * {@code share} of the shared buffer ({@code handle}, null when every bucket is read in place) and of the
     * host-store files read in place, with the ranges to read ahead ({@link #HOST_BUFFERS} workers only).
     */
    public static Frame share(ShareHandle handle, List<FileWindow> hostBuffers, List<HostRange> readAhead) {
        ObjectNode json = message("share");
        if (!hostBuffers.isEmpty()) {
            ArrayNode buffers = json.putArray("host_buffers");
            for (FileWindow window : hostBuffers) {
                buffers.addObject().put("path", window.path()).put("offset", window.offset()).put("size", window.size());
            }
            ArrayNode ranges = json.putArray("read_ahead");
            for (HostRange range : readAhead) {
                ranges.addArray().add(range.buffer()).add(range.offset()).add(range.length());
            }
        }
        if (handle == null) {
            return new Frame(json);
        }
        ObjectNode h = json.putObject("handle");
        if (handle.type() == ShareHandle.Type.CUDA_IPC) {
            h.put("kind", "cuda-ipc").put("device_uuid", handle.gpuUuid()).put("size", handle.size());
            return new Frame(json, handle.ipcHandle());
        }
        h.put("kind", "shm").put("path", handle.path()).put("size", handle.size());
        return new Frame(json);
    }

    public static Frame bucket(int id, List<TensorEntry> tensors, Long crc32) {
        ObjectNode json = message("bucket").put("id", id);
        ArrayNode list = json.putArray("tensors");
        for (TensorEntry t : tensors) {
            ObjectNode e = list.addObject().put("name", t.name()).put("dtype", t.dtype());
            ArrayNode shape = e.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            e.put("offset", t.offset()).put("nbytes", t.nbytes());
            if (!t.inSharedBuffer()) {
                e.put("buffer", t.hostBuffer());
            }
        }
        if (crc32 != null) {
            json.putObject("checksum").put("algorithm", "crc32").put("value", crc32);
        }
        return new Frame(json);
    }

    public static Frame release() {
        return new Frame(message("release"));
    }

    public static Frame finish(String version) {
        return new Frame(message("finish").put("version", version));
    }

    public static Frame abort(String reason) {
        return new Frame(message("abort").put("reason", reason));
    }

    public static Frame error(String text) {
        return new Frame(message("error").put("message", text));
    }

    /** The text of an {@code error} message (never empty). */
    public static String errorText(Frame frame) {
        String text = frame.json().path("message").asText("");
        return text.isBlank() ? "(the worker sent an error without a message)" : text.strip();
    }

    public static void expectType(Frame frame, String type) throws ProtocolException {
        if (!type.equals(frame.type())) {
            throw new ProtocolException("expected a '" + type + "' message, got '" + frame.type() + "'");
        }
    }

    static ObjectNode message(String type) {
        return FrameCodec.mapper().createObjectNode().put("type", type);
    }

    static String requiredText(ObjectNode json, String field, String type) throws ProtocolException {
        JsonNode v = json.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw new ProtocolException("'" + type + "' message needs a non-empty string field '" + field + "'");
        }
        return v.asText();
    }

    static int requiredInt(ObjectNode json, String field, String type) throws ProtocolException {
        JsonNode v = json.get(field);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new ProtocolException("'" + type + "' message needs an integer field '" + field + "'");
        }
        return v.asInt();
    }
}
