package dev.weightlift.protocol.broadcast;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.weightlift.protocol.ProtocolException;
import java.util.List;

/** Converts the Broadcast payloads to and from the JSON trees the control messages carry; strict like the codec. */
public final class WorkCodec {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    private WorkCodec() {
    }

    public static JsonNode toTree(Object value) {
        return MAPPER.valueToTree(value);
    }

    public static <T> T fromTree(JsonNode tree, Class<T> type) throws ProtocolException {
        try {
            return MAPPER.treeToValue(tree, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new ProtocolException("malformed " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    public static List<LoadedTensor> tensors(JsonNode tree) throws ProtocolException {
        try {
            return MAPPER.readerFor(new TypeReference<List<LoadedTensor>>() { }).readValue(tree);
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new ProtocolException("malformed tensor list: " + e.getMessage(), e);
        }
    }
}
