package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The openAPIV3Schema of the generated CRD, and its translation into a JSON Schema (draft 2020-12) that a
 * plain validator checks the way the API server would.
 *
 * <p>The translation: OpenAPI 3.0's boolean {@code exclusiveMinimum/exclusiveMaximum} become the numeric
 * draft-2020 form; {@code x-kubernetes-*} extensions are dropped (the CEL rules are checked by
 * {@link CelRules}); objects with declared properties reject unknown fields, as the API server does under
 * strict field validation (kubectl's default).
 */
final class StructuralSchema {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final JsonNode openApiSchema;

    private StructuralSchema(JsonNode openApiSchema) {
        this.openApiSchema = openApiSchema;
    }

    static StructuralSchema of(Path crd) throws IOException {
        JsonNode versions = YAML.readTree(crd.toFile()).path("spec").path("versions");
        for (JsonNode version : versions) {
            if (WeightUpdate.VERSION.equals(version.path("name").asText())) {
                return new StructuralSchema(version.path("schema").path("openAPIV3Schema"));
            }
        }
        throw new IllegalStateException(crd + " has no version " + WeightUpdate.VERSION);
    }

    JsonNode openApi() {
        return openApiSchema;
    }

    JsonNode toJsonSchema() {
        ObjectNode root = (ObjectNode) translate(openApiSchema, true);
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        return root;
    }

    /** Fills absent properties with their schema defaults, as the API server does before validating. */
    static void applyDefaults(JsonNode schema, JsonNode instance) {
        if (!instance.isObject()) {
            return;
        }
        ObjectNode object = (ObjectNode) instance;
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> property = it.next();
            JsonNode value = object.get(property.getKey());
            if (value == null && property.getValue().has("default")) {
                object.set(property.getKey(), property.getValue().get("default").deepCopy());
            } else if (value != null) {
                applyDefaults(property.getValue(), value);
            }
        }
    }

    /** Every schema node that carries CEL rules, with the instance path it applies to. */
    static List<Map.Entry<List<String>, JsonNode>> ruleSites(JsonNode schema) {
        List<Map.Entry<List<String>, JsonNode>> sites = new ArrayList<>();
        collectRuleSites(schema, List.of(), sites);
        return sites;
    }

    private static void collectRuleSites(JsonNode schema, List<String> path, List<Map.Entry<List<String>, JsonNode>> sites) {
        if (schema.has("x-kubernetes-validations")) {
            sites.add(Map.entry(path, schema.get("x-kubernetes-validations")));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> property = it.next();
            List<String> child = new ArrayList<>(path);
            child.add(property.getKey());
            collectRuleSites(property.getValue(), child, sites);
        }
    }

    private static JsonNode translate(JsonNode node, boolean root) {
        ObjectNode out = YAML.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = field.getKey();
            JsonNode value = field.getValue();
            if (key.startsWith("x-kubernetes-") || key.equals("nullable")) {
                continue;
            }
            switch (key) {
                case "properties" -> {
                    ObjectNode properties = out.putObject("properties");
                    value.fields().forEachRemaining(p -> properties.set(p.getKey(), translate(p.getValue(), false)));
                }
                case "items", "additionalProperties" -> out.set(key, value.isObject() ? translate(value, false) : value);
                case "exclusiveMinimum", "exclusiveMaximum" -> {
                    // handled with minimum/maximum below
                }
                case "minimum" -> putBound(out, node, value, "exclusiveMinimum", "minimum");
                case "maximum" -> putBound(out, node, value, "exclusiveMaximum", "maximum");
                default -> out.set(key, value);
            }
        }
        if (!root && node.has("properties") && !node.has("additionalProperties")) {
            out.put("additionalProperties", false);
        }
        return out;
    }

    private static void putBound(ObjectNode out, JsonNode node, JsonNode bound, String exclusiveKey, String inclusiveKey) {
        if (node.path(exclusiveKey).asBoolean(false)) {
            out.set(exclusiveKey, bound);
        } else {
            out.set(inclusiveKey, bound);
        }
    }
}
