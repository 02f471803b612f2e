package dev.weightlift.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Runs the engine-side package's own unit tests ({@code python -m unittest} in agent/python) as part of the build. */
class PythonPackageTest {

    @Test
    void pythonUnitTestsPass() throws IOException, InterruptedException {
        String python = System.getProperty("weightlift.python", "/usr/bin/python3");
        Process process = new ProcessBuilder(python, "-m", "unittest", "discover", "-s", "tests", "-t", ".")
                .directory(Path.of("python").toFile())
                .redirectErrorStream(true)
                .start();
        process.getOutputStream().close();
        byte[] output = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "python unit tests did not finish within 120 s");
        String text = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), text);
        assertTrue(text.contains("OK"), text);
    }
}
