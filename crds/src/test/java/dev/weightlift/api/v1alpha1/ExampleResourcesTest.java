package dev.weightlift.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The example resources under {@code examples/valid} pass the generated CRD's schema and CEL rules; each one
 * under {@code examples/invalid} fails exactly once, for the reason its header states:
 * {@code # expect-keyword:} (the schema keyword, or {@code x-kubernetes-validations} for a CEL rule),
 * {@code # expect-path:} (the instance path) and optionally {@code # expect-message:} (a part of the message).
 */
class ExampleResourcesTest {

    private static final Path EXAMPLES = Path.of("src/test/resources/examples");

    private static JsonSchema schema;
    private static CelRules celRules;
    private static StructuralSchema structural;

    /** A failure as the API server would report it: keyword, instance path, message. */
    record Failure(String keyword, String path, String message) {
    }

    @BeforeAll
    static void loadSchema() throws IOException {
        structural = StructuralSchema.of(Path.of(System.getProperty("crd.generated")));
        schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(structural.toJsonSchema());
        celRules = new CelRules(structural.openApi());
    }

    static Stream<Path> valid() throws IOException {
        return examples("valid");
    }

    static Stream<Path> invalid() throws IOException {
        return examples("invalid");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void validExamplePasses(Path example) throws Exception {
        assertEquals(List.of(), failures(example), example + " should be accepted");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidExampleFailsForItsStatedReason(Path example) throws Exception {
        String text = Files.readString(example);
        String keyword = header(text, "expect-keyword").orElseThrow(() -> new AssertionError(example + " has no # expect-keyword:"));
        String path = header(text, "expect-path").orElseThrow(() -> new AssertionError(example + " has no # expect-path:"));
        Optional<String> message = header(text, "expect-message");

        List<Failure> failures = failures(example);
        assertEquals(1, failures.size(), example + " should fail exactly once, failed with " + failures);
        Failure failure = failures.get(0);
        assertEquals(keyword, failure.keyword(), example + ": " + failure);
        assertEquals(path, failure.path(), example + ": " + failure);
        message.ifPresent(m -> assertTrue(failure.message().contains(m), example + ": message '" + failure.message() + "' lacks '" + m + "'"));
    }

    @Test
    void everyCelRuleIsBrokenByAnInvalidExample() throws Exception {
        List<String> ruleMessages = new ArrayList<>();
        structural.openApi().path("properties").path("spec").path("x-kubernetes-validations")
                .forEach(rule -> ruleMessages.add(rule.path("message").asText()));
        assertEquals(ruleMessages.size(), celRules.ruleCount(), "CEL rules outside spec are not covered by this test");
        assertFalse(ruleMessages.isEmpty());
        List<Path> invalid = invalid().toList();
        for (String ruleMessage : ruleMessages) {
            boolean covered = false;
            for (Path example : invalid) {
                covered |= failures(example).stream().anyMatch(f -> f.message().equals(ruleMessage));
            }
            assertTrue(covered, "no invalid example breaks the CEL rule '" + ruleMessage + "'");
        }
    }

    @Test
    void booleanExclusiveMinimumBecomesTheDraft2020Bound() {
        JsonNode fraction = structural.toJsonSchema().path("properties").path("spec").path("properties").path("memoryFraction");
        assertEquals(0.0, fraction.path("exclusiveMinimum").asDouble(-1));
        assertFalse(fraction.has("minimum"), fraction.toString());
    }

    private static List<Failure> failures(Path example) throws Exception {
        JsonNode instance = StructuralSchema.YAML.readTree(example.toFile());
        List<Failure> failures = new ArrayList<>();
        for (ValidationMessage m : schema.validate(instance)) {
            failures.add(new Failure(m.getType(), m.getInstanceLocation().toString(), m.getMessage()));
        }
        if (failures.isEmpty()) {
            StructuralSchema.applyDefaults(structural.openApi(), instance);
            for (CelRules.Violation v : celRules.check(instance)) {
                failures.add(new Failure("x-kubernetes-validations", v.path(), v.message()));
            }
        }
        return failures;
    }

    private static Optional<String> header(String text, String key) {
        String prefix = "# " + key + ":";
        return text.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()).trim()).findFirst();
    }

    private static Stream<Path> examples(String kind) throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES.resolve(kind))) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }
}
