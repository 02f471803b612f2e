package dev.weightlift.operator.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Golden files: {@code src/test/resources/<Test>/<scenario>/in-*.yaml} → {@code out-*.yaml}. Run with
 * {@code -Dweightlift.golden.write=true} to (re)write the outputs, then review the diff.
 */
public final class Golden {

    public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .disable(YAMLGenerator.Feature.SPLIT_LINES))
            .findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private Golden() {
    }

    public static Stream<Path> scenarios(Class<?> test) throws IOException {
        Path root = Path.of("src/test/resources", test.getSimpleName());
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(Files::isDirectory).sorted().toList().stream();
        }
    }

    public static <T> T read(Path scenario, String file, Class<T> type) {
        try {
            return YAML.readValue(scenario.resolve(file).toFile(), type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Asserts that {@code actual}, as YAML, is the scenario's {@code file}. */
    public static void assertMatches(Path scenario, String file, Object actual) throws IOException {
        String yaml = YAML.writeValueAsString(actual);
        Path expected = scenario.resolve(file);
        if (Boolean.getBoolean("weightlift.golden.write")) {
            Files.writeString(expected, yaml);
        }
        assertEquals(Files.exists(expected) ? Files.readString(expected) : "<missing " + expected + ">", yaml, scenario.getFileName() + "/" + file);
    }
}
