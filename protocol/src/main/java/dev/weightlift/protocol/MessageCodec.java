package dev.weightlift.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * JSON encoding of {@link Envelope}s: {@code {"v":1,"type":"Register","id":"…","body":{…}}}. Decoding is
 * strict: wrong protocol version, unknown type, missing or unknown fields and frames over the size limit
 * are rejected with a {@link ProtocolException} that names the problem. Thread-safe.
 */
public final class MessageCodec {

    public static final int PROTOCOL_VERSION = 1;
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 << 20;
    private static final int MAX_ID_LENGTH = 128;
    private static final Set<String> ENVELOPE_FIELDS = Set.of("v", "type", "id", "body");
    private static final Map<String, Class<? extends Message>> TYPES = collectTypes();

    private final ObjectMapper mapper;
    private final int maxMessageBytes;

    public MessageCodec() {
        this(DEFAULT_MAX_MESSAGE_BYTES);
    }

    public MessageCodec(int maxMessageBytes) {
        if (maxMessageBytes <= 0) {
            throw new IllegalArgumentException("maxMessageBytes must be positive, got " + maxMessageBytes);
        }
        this.maxMessageBytes = maxMessageBytes;
        this.mapper = JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /** The wire name of a message type. */
    public static String typeName(Class<? extends Message> type) {
        return type.getSimpleName();
    }

    /** Every message type of the protocol by wire name. */
    public static Set<String> typeNames() {
        return TYPES.keySet();
    }

    public byte[] encode(Envelope envelope) {
        ObjectNode root = mapper.createObjectNode();
        root.put("v", PROTOCOL_VERSION);
        root.put("type", envelope.type());
        root.put("id", envelope.id());
        root.set("body", mapper.valueToTree(envelope.message()));
        byte[] bytes;
        try {
            bytes = mapper.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + envelope.type() + ": " + e.getOriginalMessage(), e);
        }
        if (bytes.length > maxMessageBytes) {
            throw new IllegalArgumentException(envelope.type() + " " + envelope.id() + " is " + bytes.length
                    + " bytes, over the protocol limit of " + maxMessageBytes);
        }
        return bytes;
    }

    public Envelope decode(byte[] frame) throws ProtocolException {
        if (frame.length > maxMessageBytes) {
            throw new ProtocolException("message of " + frame.length + " bytes is over the limit of "
                    + maxMessageBytes);
        }
        JsonNode root = parse(frame);
        for (var names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!ENVELOPE_FIELDS.contains(name)) {
                throw new ProtocolException("unknown envelope field '" + name + "'");
            }
        }
        JsonNode version = root.get("v");
        if (version == null || !version.isInt()) {
            throw new ProtocolException("missing or non-integer protocol version 'v'");
        }
        if (version.intValue() != PROTOCOL_VERSION) {
            throw new ProtocolException("protocol version " + version.intValue() + " is not supported (this side speaks "
                    + PROTOCOL_VERSION + ")");
        }
        String type = requiredText(root, "type");
        String id = requiredText(root, "id");
        if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            throw new ProtocolException("id of " + type + " must have 1 to " + MAX_ID_LENGTH + " characters");
        }
        Class<? extends Message> messageType = TYPES.get(type);
        if (messageType == null) {
            throw new ProtocolException("unknown message type '" + type + "'");
        }
        JsonNode body = root.get("body");
        if (body == null || !body.isObject()) {
            throw new ProtocolException(type + " " + id + " has no 'body' object");
        }
        try {
            return new Envelope(id, mapper.treeToValue(body, messageType));
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new ProtocolException("malformed " + type + " " + id + ": " + cause.getMessage(), e);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            String detail = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            int hint = detail == null ? -1 : detail.indexOf("; `");
            throw new ProtocolException("malformed " + type + " " + id + ": "
                    + (hint > 0 ? detail.substring(0, hint) : detail), e);
        }
    }

    private JsonNode parse(byte[] frame) throws ProtocolException {
        JsonNode root;
        try {
            root = mapper.readTree(frame);
        } catch (JsonProcessingException e) {
            throw new ProtocolException("message is not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ProtocolException("message cannot be read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ProtocolException("message is not a JSON object");
        }
        return root;
    }

    private static String requiredText(JsonNode root, String field) throws ProtocolException {
        JsonNode node = root.get(field);
        if (node == null || !node.isTextual()) {
            throw new ProtocolException("missing or non-string envelope field '" + field + "'");
        }
        return node.textValue();
    }

    private static Map<String, Class<? extends Message>> collectTypes() {
        Map<String, Class<? extends Message>> types = new LinkedHashMap<>();
        collect(Message.class, types);
        return Map.copyOf(types);
    }

    @SuppressWarnings("unchecked")
    private static void collect(Class<?> type, Map<String, Class<? extends Message>> types) {
        if (type.isRecord()) {
            types.put(typeName((Class<? extends Message>) type), (Class<? extends Message>) type);
            return;
        }
        for (Class<?> sub : type.getPermittedSubclasses()) {
            collect(sub, types);
        }
    }
}
