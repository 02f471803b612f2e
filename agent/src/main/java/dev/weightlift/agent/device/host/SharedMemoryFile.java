package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.NativeMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A new file in the shared-memory directory, every page written before it is mapped read-write: a mapping
 * of a sparse file on a full tmpfs would take SIGBUS at the first write of a page the file system cannot back,
 * where a write here fails with ENOSPC. Writing the zeros costs what the first touch of fresh anonymous
 * memory costs (both about 2.5 GB/s here), so a shared file is no slower to fill than malloc'd memory.
 */
final class SharedMemoryFile {

    private static final int PREALLOCATE_CHUNK = 1 << 20;

    private SharedMemoryFile() {
    }

    /** Creates {@code file} (it must not exist) of {@code bytes}, fully backed, and maps it read-write. */
    static NativeMemory.Mapping create(Path file, long bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            long free = Files.getFileStore(file.getParent()).getUsableSpace();
            if (free < bytes) {
                throw new IOException("not enough free space");
            }
            ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(bytes, PREALLOCATE_CHUNK));
            for (long at = 0; at < bytes; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), bytes - at));
                at += channel.write(zeros, at);
            }
            return NativeMemory.map(channel, FileChannel.MapMode.READ_WRITE, 0, bytes, file.toString());
        } catch (IOException | RuntimeException e) {
            delete(file);
            throw e;
        }
    }

    /** The free space of {@code dir}, in words, for error messages. */
    static String freeSpace(Path dir) {
        try {
            return Files.getFileStore(dir).getUsableSpace() + " bytes free there";
        } catch (IOException e) {
            return "its free space is unknown (" + e.getMessage() + ")";
        }
    }

    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete shared memory file " + file, e);
        }
    }
}
