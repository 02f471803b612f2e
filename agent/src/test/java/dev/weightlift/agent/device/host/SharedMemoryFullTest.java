package dev.weightlift.agent.device.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.SharedRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shared buffer in a shared-memory directory too small for it (a 1 MiB tmpfs, mounted when the test may mount,
 * skipped otherwise): the allocation fails with an error naming the directory and the bytes needed, instead of the
 * SIGBUS a sparse mapping would take at its first write; nothing is left behind.
 */
class SharedMemoryFullTest {

    @TempDir
    Path work;

    private Path shmDir;
    private HostBackend backend;

    @BeforeEach
    void mountTinyTmpfs() throws Exception {
        shmDir = Files.createDirectory(work.resolve("shm"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", shmDir.toString()) == 0, "mounting a tmpfs is not permitted here");
        backend = new HostBackend(new HostBackendConfig("node-a", 1, 64L << 20, 64L << 20, shmDir, Duration.ofSeconds(10)));
    }

    @AfterEach
    void unmount() throws Exception {
        if (backend != null) {
            backend.close();
            run("umount", shmDir.toString());
        }
    }

    @Test
    void aSharedBufferLargerThanTheDirectoryCanHoldFailsNamingDirectoryAndBytes() throws IOException {
        HostGpu gpu = (HostGpu) backend.gpus().get(0);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> gpu.allocateShared(4L << 20));

        assertTrue(e.getMessage().contains(shmDir.toString()) && e.getMessage().contains(Long.toString(4L << 20)), e.getMessage());
        assertEquals(0, gpu.bytesInUse());
        try (Stream<Path> left = Files.list(shmDir)) {
            assertEquals(0, left.count(), "no file left in " + shmDir);
        }
    }

    @Test
    void aBufferThatFitsIsBackedBeforeItIsMapped() throws IOException {
        Gpu gpu = backend.gpus().get(0);
        try (SharedRegion region = gpu.allocateShared(512 << 10)) {
            try (Stream<Path> files = Files.list(shmDir)) {
                Path file = files.findFirst().orElseThrow();
                assertTrue((long) Files.getAttribute(file, "unix:size") == 512 << 10);
            }
            assertTrue(Files.getFileStore(shmDir).getUsableSpace() <= (1 << 20) - (512 << 10), "the pages are allocated, not sparse");
        }
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
    }
}
