package dev.weightlift.charts;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The chart's CRD and what the API server would say about a custom resource, as far as it can be
 * said without one: the OpenAPI 3.0 schema (draft-4 semantics, e.g. boolean exclusiveMinimum) (types, enums, patterns, ranges, required fields) and the
 * fields it would reject as unknown. CEL rules (x-kubernetes-validations) are not evaluated here.
 */
final class CrdSchema {

  static final Path CHART_CRD = RenderedChart.CHART.resolve("crds/weightupdates.weightlift.dev-v1.yml");

  /** Draft 4 with the Kubernetes extensions known: CEL rules and the structural markers are not checked here. */
  private static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.builder(JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4))
      .metaSchema(JsonMetaSchema.builder(JsonMetaSchema.getV4())
          .keywords(Stream.of("x-kubernetes-validations", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
                  "x-kubernetes-embedded-resource", "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type")
              .map(NonValidationKeyword::new).toList())
          .build())
      .build();

  private final JsonNode crd;

  private CrdSchema(JsonNode crd) {
    this.crd = crd;
  }

  static CrdSchema ofChart() {
    try {
      return new CrdSchema(RenderedChart.YAML.readTree(CHART_CRD.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + CHART_CRD, e);
    }
  }

  JsonNode crd() {
    return crd;
  }

  JsonNode version(String name) {
    for (JsonNode version : crd.path("spec").path("versions")) {
      if (name.equals(version.path("name").asText())) {
        return version;
      }
    }
    throw new AssertionError("CRD has no version " + name);
  }

  /** Problems the API server would report for this resource, empty when it would accept it. */
  List<String> problems(JsonNode resource) {
    String apiVersion = resource.path("apiVersion").asText();
    String group = crd.path("spec").path("group").asText();
    if (!apiVersion.startsWith(group + "/")) {
      return List.of("apiVersion " + apiVersion + " is not in group " + group);
    }
    JsonNode openApi = version(apiVersion.substring(group.length() + 1)).path("schema").path("openAPIV3Schema");
    JsonSchema schema = SCHEMAS.getSchema(openApi);
    List<String> problems = new ArrayList<>();
    for (ValidationMessage message : schema.validate(resource.deepCopy())) {
      problems.add(message.getMessage());
    }
    JsonNode withoutMetadata = resource.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) withoutMetadata).remove(List.of("apiVersion", "kind", "metadata"));
    unknownFields(openApi, withoutMetadata, "", problems);
    return problems;
  }

  private static void unknownFields(JsonNode schema, JsonNode value, String path, List<String> problems) {
    if (schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
      return;
    }
    if (value.isObject()) {
      JsonNode properties = schema.path("properties");
      JsonNode additional = schema.path("additionalProperties");
      for (Iterator<String> names = value.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        String childPath = path + "." + name;
        if (properties.has(name)) {
          unknownFields(properties.path(name), value.path(name), childPath, problems);
        } else if (additional.isObject()) {
          unknownFields(additional, value.path(name), childPath, problems);
        } else {
          problems.add("unknown field " + childPath.substring(1));
        }
      }
    } else if (value.isArray()) {
      for (int i = 0; i < value.size(); i++) {
        unknownFields(schema.path("items"), value.get(i), path + "[" + i + "]", problems);
      }
    }
  }
}
