package dev.weightlift.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The manifests under examples/ parse, and their WeightUpdates pass the chart CRD's schema. */
class ExamplesTest {

  private static final Path EXAMPLES = RepoPaths.ROOT.resolve("examples");
  private static final String VLLM_EXTENSION_FLAG = "--worker-extension-cls=";

  static List<Path> exampleFiles() throws IOException {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("exampleFiles")
  void everyDocumentIsAKubernetesObject(Path file) throws IOException {
    List<JsonNode> documents = RenderedChart.parse(Files.readString(file));

    assertFalse(documents.isEmpty(), file + " is empty");
    for (JsonNode document : documents) {
      assertFalse(document.path("apiVersion").asText().isEmpty(), file + ": a document without apiVersion");
      assertFalse(document.path("kind").asText().isEmpty(), file + ": a document without kind");
      assertFalse(document.path("metadata").path("name").asText().isEmpty(), file + ": a document without a name");
    }
  }

  @Test
  void weightUpdatesAreValidAgainstTheGeneratedCrd() throws IOException {
    CrdSchema schema = CrdSchema.ofChart();
    List<JsonNode> updates = ofKind("WeightUpdate");

    assertEquals(2, updates.size(), "the vLLM and the SGLang example");
    for (JsonNode update : updates) {
      assertEquals(List.of(), schema.problems(update), update.path("metadata").path("name").asText());
    }
  }

  @Test
  void schemaCheckRejectsAMistake() throws IOException {
    JsonNode update = ofKind("WeightUpdate").get(0).deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) update.path("spec").path("engine")).put("type", "tgi");
    ((com.fasterxml.jackson.databind.node.ObjectNode) update.path("spec")).put("bukcetSize", "2Gi");

    List<String> problems = CrdSchema.ofChart().problems(update);

    assertTrue(problems.stream().anyMatch(p -> p.contains("type")), problems.toString());
    assertTrue(problems.contains("unknown field spec.bukcetSize"), problems.toString());
  }

  @Test
  void vllmFleetIsWiredForWeightlift() throws IOException {
    JsonNode deployment = single("vllm-fleet.yaml", "Deployment");
    JsonNode update = single("weightupdate.yaml", "WeightUpdate");
    JsonNode pod = deployment.path("spec").path("template");
    JsonNode vllm = RenderedChart.container(deployment, "vllm");
    List<String> args = DefaultValuesTest.strings(vllm.path("args"));

    assertTrue(args.contains("--load-format=dummy"), args.toString());
    assertTrue(args.stream().anyMatch(a -> a.startsWith(VLLM_EXTENSION_FLAG)), args.toString());
    assertEquals("1", RenderedChart.env(vllm, "VLLM_SERVER_DEV_MODE"));
    assertEquals("weightlift.dev/weights-ready", pod.path("spec").path("readinessGates").get(0).path("conditionType").asText());
    JsonNode sockets = RenderedChart.volume(deployment, "weightlift-sockets");
    String agentSocketDir = RenderedChart.YAML.readTree(RenderedChart.CHART.resolve("values.yaml").toFile())
        .path("agent").path("socketDir").asText();
    assertEquals(agentSocketDir, sockets.path("hostPath").path("path").asText());
    assertEquals(agentSocketDir, RenderedChart.mount(vllm, "weightlift-sockets").path("mountPath").asText());
    assertEquals(pod.path("metadata").path("labels"), update.path("spec").path("selector").path("matchLabels"));
    assertEquals(2, update.path("spec").path("engine").path("gpusPerInstance").asInt());
    assertTrue(args.contains("--tensor-parallel-size=2"));
    assertEquals(vllm.path("ports").get(0).path("containerPort").asInt(), update.path("spec").path("engine").path("port").asInt());
  }

  @Test
  void vllmWorkerExtensionNamesAClassOfTheEnginePackage() throws IOException {
    JsonNode vllm = RenderedChart.container(single("vllm-fleet.yaml", "Deployment"), "vllm");
    String extension = DefaultValuesTest.strings(vllm.path("args")).stream()
        .filter(a -> a.startsWith(VLLM_EXTENSION_FLAG)).findFirst().orElseThrow().substring(VLLM_EXTENSION_FLAG.length());
    int lastDot = extension.lastIndexOf('.');
    Path module = RepoPaths.ROOT.resolve("agent/python").resolve(extension.substring(0, lastDot).replace('.', '/') + ".py");
    assumeTrue(Files.isDirectory(RepoPaths.ROOT.resolve("agent/python/weightlift_engine")),
        "the engine-side Python package is not on this branch yet");

    assertTrue(Files.exists(module), module + " (named by --worker-extension-cls) does not exist");
    assertTrue(Files.readString(module).contains("class " + extension.substring(lastDot + 1)),
        module + " does not define " + extension.substring(lastDot + 1));
  }

  private static List<JsonNode> ofKind(String kind) throws IOException {
    List<JsonNode> matching = new ArrayList<>();
    for (Path file : exampleFiles()) {
      for (JsonNode document : RenderedChart.parse(Files.readString(file))) {
        if (kind.equals(document.path("kind").asText())) {
          matching.add(document);
        }
      }
    }
    return matching;
  }

  private static JsonNode single(String file, String kind) throws IOException {
    List<JsonNode> matching = RenderedChart.parse(Files.readString(EXAMPLES.resolve(file))).stream()
        .filter(d -> kind.equals(d.path("kind").asText())).toList();
    assertEquals(1, matching.size(), file + ": one " + kind);
    return matching.get(0);
  }
}
