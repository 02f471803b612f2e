package dev.weightlift.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's CR reference names every spec field of the generated CRD as {@code `spec.a.b`}. */
class ReadmeDocumentsEverySpecFieldTest {

    @Test
    void everySpecFieldIsInTheReadme() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        String section = readme.substring(readme.indexOf("## The `WeightUpdate` resource"));
        JsonNode spec = StructuralSchema.of(Path.of(System.getProperty("crd.generated"))).openApi().path("properties").path("spec");
        List<String> fields = new ArrayList<>();
        collect(spec, "spec", fields);
        List<String> missing = fields.stream().filter(f -> !section.contains("`" + f + "`")).toList();
        assertEquals(List.of(), missing, "README.md's WeightUpdate section misses these spec fields");
    }

    /** Leaf fields, and the selector as one field (its structure is Kubernetes' own). */
    private static void collect(JsonNode schema, String path, List<String> fields) {
        if (!schema.has("properties") || path.equals("spec.selector")) {
            fields.add(path);
            return;
        }
        schema.path("properties").fields().forEachRemaining(p -> collect(p.getValue(), path + "." + p.getKey(), fields));
    }
}
