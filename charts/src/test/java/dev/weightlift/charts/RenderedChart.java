package dev.weightlift.charts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The chart's manifests as rendered by `helm template`, looked up by kind and name. */
final class RenderedChart {

  static final Path CHART = RepoPaths.ROOT.resolve("charts/weightlift");
  static final String RELEASE = "wl";
  static final String NAMESPACE = "weightlift-system";
  static final String KUBE_VERSION = "1.31.0";
  static final String HOOK_ANNOTATION = "test.weightlift.dev/hook";
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final List<JsonNode> manifests;

  private RenderedChart(List<JsonNode> manifests) {
    this.manifests = manifests;
  }

  static RenderedChart withDefaults() {
    return render(command -> {});
  }

  static RenderedChart withValuesFile(String testResource) {
    return render(command -> command.withValuesFile(RepoPaths.testResource(testResource)));
  }

  static RenderedChart withSet(Map<String, Object> values) {
    return render(command -> values.forEach(command::set));
  }

  static RenderedChart render(Consumer<TemplateCommand> values) {
    return render(CHART, values);
  }

  /**
   * Renders the chart with its hooks as plain resources: `helm template` through helm-java prints the
   * release manifest only, without hooks. The copy differs from the chart only in the hook annotation's
   * key ({@value #HOOK_ANNOTATION} instead of helm.sh/hook), so tests can still read the hook phases.
   */
  static RenderedChart renderWithHooks(Consumer<TemplateCommand> values) {
    try {
      Path copy = Files.createTempDirectory("weightlift-chart-");
      try (Stream<Path> files = Files.walk(CHART)) {
        for (Path source : (Iterable<Path>) files::iterator) {
          Path target = copy.resolve(CHART.relativize(source).toString());
          if (Files.isDirectory(source)) {
            Files.createDirectories(target);
          } else {
            Files.writeString(target, Files.readString(source).replace("helm.sh/hook:", HOOK_ANNOTATION + ":"));
          }
        }
      }
      return render(copy, values);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the chart", e);
    }
  }

  private static RenderedChart render(Path chart, Consumer<TemplateCommand> values) {
    TemplateCommand command = new Helm(chart).template().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion(KUBE_VERSION);
    values.accept(command);
    return new RenderedChart(parse(command.call()));
  }

  static List<JsonNode> parse(String yaml) {
    try (var parser = YAML.getFactory().createParser(yaml)) {
      List<JsonNode> documents = new ArrayList<>();
      for (var it = YAML.readValues(parser, JsonNode.class); it.hasNext(); ) {
        JsonNode document = it.next();
        if (document != null && !document.isNull() && !document.isEmpty()) {
          documents.add(document);
        }
      }
      return documents;
    } catch (IOException e) {
      throw new UncheckedIOException("rendered chart is not valid YAML", e);
    }
  }

  List<JsonNode> all() {
    return manifests;
  }

  List<JsonNode> ofKind(String kind) {
    return manifests.stream().filter(m -> kind.equals(m.path("kind").asText())).collect(Collectors.toList());
  }

  JsonNode get(String kind, String name) {
    return manifests.stream()
        .filter(m -> kind.equals(m.path("kind").asText()))
        .filter(m -> name.equals(m.path("metadata").path("name").asText()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " named " + name + " in " + names()));
  }

  boolean has(String kind, String name) {
    return manifests.stream()
        .anyMatch(m -> kind.equals(m.path("kind").asText()) && name.equals(m.path("metadata").path("name").asText()));
  }

  JsonNode operatorDeployment() {
    return get("Deployment", RELEASE + "-weightlift-operator");
  }

  JsonNode agentDaemonSet() {
    return get("DaemonSet", RELEASE + "-weightlift-agent");
  }

  static JsonNode podSpec(JsonNode workload) {
    return workload.path("spec").path("template").path("spec");
  }

  static JsonNode container(JsonNode workload, String name) {
    for (JsonNode container : podSpec(workload).path("containers")) {
      if (name.equals(container.path("name").asText())) {
        return container;
      }
    }
    throw new AssertionError("no container " + name + " in " + workload.path("metadata").path("name").asText());
  }

  static String env(JsonNode container, String name) {
    for (JsonNode env : container.path("env")) {
      if (name.equals(env.path("name").asText())) {
        return env.has("value") ? env.path("value").asText() : env.path("valueFrom").toString();
      }
    }
    return null;
  }

  static JsonNode volume(JsonNode workload, String name) {
    for (JsonNode volume : podSpec(workload).path("volumes")) {
      if (name.equals(volume.path("name").asText())) {
        return volume;
      }
    }
    return null;
  }

  static JsonNode mount(JsonNode container, String volumeName) {
    for (JsonNode mount : container.path("volumeMounts")) {
      if (volumeName.equals(mount.path("name").asText())) {
        return mount;
      }
    }
    return null;
  }

  private List<String> names() {
    return manifests.stream()
        .map(m -> m.path("kind").asText() + "/" + m.path("metadata").path("name").asText())
        .collect(Collectors.toList());
  }

  static String text(Object value) {
    try {
      return YAML.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
