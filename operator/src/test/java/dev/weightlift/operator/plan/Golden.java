package dev.weightlift.operator.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Golden files under {@code src/test/resources/<TestClass>/<scenario>/}: {@code in.yaml} is read, the
 * result is compared with {@code out.yaml}. Run with {@code -Dgolden.update=true} to rewrite the
 * outputs after a deliberate change, then review the diff.
 */
final class Golden {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .enable(SerializationFeature.INDENT_OUTPUT);

    private Golden() {
    }

    static Path dir(Class<?> test) {
        return Path.of("src/test/resources", test.getSimpleName());
    }

    static List<String> scenarios(Class<?> test) {
        try (Stream<Path> dirs = Files.list(dir(test))) {
            return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T> T read(Class<?> test, String scenario, Class<T> type) {
        try {
            return YAML.readValue(dir(test).resolve(scenario).resolve("in.yaml").toFile(), type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void check(Class<?> test, String scenario, Object actual) {
        Path out = dir(test).resolve(scenario).resolve("out.yaml");
        try {
            String text = YAML.writeValueAsString(actual);
            if (Boolean.getBoolean("golden.update")) {
                Files.writeString(out, text);
            }
            assertTrue(Files.exists(out), "missing golden file " + out + "; write it with -Dgolden.update=true");
            assertEquals(Files.readString(out), text, "golden file " + out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
