package dev.weightlift.agent.engine.nativeprotocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Frames of the native protocol: {@code u32 json_length | u32 raw_length | json | raw}, big-endian
 * (see agent/docs/engine-protocol.md §2). Lengths are checked against the limits before anything is
 * allocated.
 */
public final class FrameCodec {

    public static final int HEADER_BYTES = 8;
    public static final int DEFAULT_MAX_JSON_BYTES = 16 << 20;
    public static final int MAX_RAW_BYTES = 4096;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final int maxJsonBytes;

    public FrameCodec(int maxJsonBytes) {
        if (maxJsonBytes < 2) {
            throw new IllegalArgumentException("maxJsonBytes must be at least 2, got " + maxJsonBytes);
        }
        this.maxJsonBytes = maxJsonBytes;
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public ByteBuffer encode(Frame frame) throws ProtocolException {
        byte[] json;
        try {
            json = MAPPER.writeValueAsBytes(frame.json());
        } catch (JsonProcessingException e) {
            throw new ProtocolException("cannot encode a '" + frame.type() + "' message: " + e.getMessage(), e);
        }
        byte[] raw = frame.raw();
        if (json.length > maxJsonBytes) {
            throw new ProtocolException("'" + frame.type() + "' message of " + json.length
                    + " bytes exceeds the frame limit of " + maxJsonBytes + " bytes");
        }
        if (raw.length > MAX_RAW_BYTES) {
            throw new ProtocolException("raw payload of " + raw.length + " bytes exceeds " + MAX_RAW_BYTES);
        }
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + json.length + raw.length);
        out.putInt(json.length).putInt(raw.length).put(json).put(raw).flip();
        return out;
    }

    /** Reads and checks a header; returns {@code {jsonLength, rawLength}}. */
    public int[] decodeHeader(ByteBuffer header) throws ProtocolException {
        long jsonLength = Integer.toUnsignedLong(header.getInt(0));
        long rawLength = Integer.toUnsignedLong(header.getInt(4));
        if (jsonLength < 2) {
            throw new ProtocolException("frame with a JSON length of " + jsonLength + " bytes (at least 2 needed)");
        }
        if (jsonLength > maxJsonBytes) {
            throw new ProtocolException("frame with a JSON length of " + jsonLength
                    + " bytes exceeds the limit of " + maxJsonBytes + " bytes");
        }
        if (rawLength > MAX_RAW_BYTES) {
            throw new ProtocolException("frame with a raw length of " + rawLength
                    + " bytes exceeds the limit of " + MAX_RAW_BYTES + " bytes");
        }
        return new int[] {(int) jsonLength, (int) rawLength};
    }

    public Frame decodeBody(byte[] json, byte[] raw) throws ProtocolException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(json)).toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException("frame body is not UTF-8", e);
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ProtocolException("frame body is not JSON: " + e.getOriginalMessage(), e);
        }
        if (!(node instanceof ObjectNode object)) {
            throw new ProtocolException("frame body is a JSON " + (node == null ? "nothing" : node.getNodeType())
                    + ", not an object");
        }
        if (!object.path("type").isTextual()) {
            throw new ProtocolException("message without a string 'type' field");
        }
        return new Frame(object, raw);
    }
}
