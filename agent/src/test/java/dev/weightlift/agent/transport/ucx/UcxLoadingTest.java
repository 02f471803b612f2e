package dev.weightlift.agent.transport.ucx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading UCX where its libraries are broken fails with a message that says what to install. */
class UcxLoadingTest {

    @TempDir
    Path dir;

    @Test
    void aMissingLibucxFailsWithAMessageNamingThePackage() throws Exception {
        Files.write(dir.resolve("libucp.so.0"), new byte[0]);
        Files.write(dir.resolve("libucs.so.0"), new byte[0]);
        String output = probe(dir.toString(), "UCX_TLS", "tcp");
        assertTrue(output.contains("@unavailable UCX is not available in this process"), output);
        assertTrue(output.contains("apt-get install libucx0"), output);
    }

    @Test
    void anEmptyUcxTlsIsRefusedBeforeUcxSeesIt() throws Exception {
        String output = probe("", "UCX_TLS", "");
        assertTrue(output.contains("@unavailable UCX_TLS is set but empty"), output);
    }

    private static String probe(String libraryPath, String key, String value) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), UcxProbe.class.getName()).redirectErrorStream(true);
        if (!libraryPath.isEmpty()) {
            builder.environment().put("LD_LIBRARY_PATH", libraryPath);
        }
        builder.environment().put(key, value);
        Process process = builder.start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            return String.join("\n", List.of(output.split("\n")).stream().filter(l -> l.startsWith("@")).toList()) + "\n" + output;
        } finally {
            process.destroyForcibly();
        }
    }
}
