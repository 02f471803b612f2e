package dev.weightlift.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The chart ships the CRD generated from the API classes (crds module), in crds/ so Helm installs it first. */
class CrdTest {

  private static final Path GENERATED =
      RepoPaths.ROOT.resolve("crds/target/classes/META-INF/fabric8/weightupdates.weightlift.dev-v1.yml");

  @Test
  void chartCrdDefinesTheWeightUpdateResource() {
    JsonNode crd = CrdSchema.ofChart().crd();
    JsonNode spec = crd.path("spec");

    assertEquals("CustomResourceDefinition", crd.path("kind").asText());
    assertEquals("weightupdates.weightlift.dev", crd.path("metadata").path("name").asText());
    assertEquals("weightlift.dev", spec.path("group").asText());
    assertEquals("Namespaced", spec.path("scope").asText());
    assertEquals("WeightUpdate", spec.path("names").path("kind").asText());
    assertEquals("wu", spec.path("names").path("shortNames").get(0).asText());
    JsonNode v1alpha1 = CrdSchema.ofChart().version("v1alpha1");
    assertTrue(v1alpha1.path("served").asBoolean() && v1alpha1.path("storage").asBoolean());
    assertTrue(v1alpha1.path("subresources").has("status"), "status must be a subresource (pods/status-style patches)");
  }

  @Test
  void chartCrdIsTheGeneratedOne() throws IOException {
    // The charts module depends on crds, so the reactor generated it before these tests.
    assertTrue(Files.exists(GENERATED), GENERATED + " was not generated");

    assertEquals(Files.readString(GENERATED), Files.readString(CrdSchema.CHART_CRD),
        "charts/weightlift/crds differs from the CRD the API classes generate");
  }
}
