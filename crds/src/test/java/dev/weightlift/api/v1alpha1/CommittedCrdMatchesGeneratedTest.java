package dev.weightlift.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The chart ships the CRD the API classes generate; the build fails when they drift apart. */
class CommittedCrdMatchesGeneratedTest {

    @Test
    void chartCrdIsWhatTheClassesGenerate() throws IOException {
        Path generated = Path.of(System.getProperty("crd.generated"));
        Path committed = Path.of(System.getProperty("crd.committed"));
        assertTrue(Files.exists(generated), "the build did not generate " + generated);
        assertTrue(Files.exists(committed), committed + " is missing: run `mvn -pl crds -Pupdate-crd process-classes`");
        assertEquals(Files.readString(generated), Files.readString(committed),
                committed + " differs from what the API classes generate: run `mvn -pl crds -Pupdate-crd process-classes` and commit it");
    }
}
