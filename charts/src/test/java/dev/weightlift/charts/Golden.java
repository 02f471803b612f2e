package dev.weightlift.charts;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Golden files under src/test/resources/golden. */
final class Golden {

  private Golden() {}

  static JsonNode read(String name) {
    try {
      return RenderedChart.YAML.readTree(RepoPaths.testResource("golden/" + name).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read golden file " + name, e);
    }
  }
}
