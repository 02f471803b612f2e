package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.NativeMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A new file in the shared-memory directory, every page written before it is mapped read-write: a mapping
 * of a sparse file on a full tmpfs would take SIGBUS at the first write of a page the file system cannot back,
 * where a write here fails with ENOSPC. Writing the zeros costs what the first touch of fresh anonymous
 * memory costs (both about 2.5 GB/s here), so a shared file is no slower to fill than malloc'd memory.
 */
final class SharedMemoryFile {

    private static final int PREALLOCATE_CHUNK = 1 << 20;

    /**
     * This process in the names of its files: the pid alone would repeat, since an agent restarted in its
     * container is pid 1 again, and its predecessor's files (left by a crash) would block the new ones.
     */
    private static final String PROCESS = ProcessHandle.current().pid() + "-"
            + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());

    private SharedMemoryFile() {
    }

    /** The name of this process's file number {@code sequence} of {@code owner} (a GPU's UUID, a node's host memory). */
    static String name(String owner, long sequence) {
        return "weightlift-" + owner + "-" + PROCESS + "-" + sequence;
    }

    /**
     * Deletes the files of {@code owner} in {@code dir} that another process made (an agent of this node that
     * died without cleaning up; there is one agent per node); returns how many. Engines that still map one keep
     * its pages until they unmap it (ours drop a mapping whose file is gone within a second).
     */
    static int deleteStale(Path dir, String owner) {
        String prefix = "weightlift-" + owner + "-";
        String mine = prefix + PROCESS + "-";
        List<Path> stale;
        try (Stream<Path> files = Files.list(dir)) {
            stale = files.filter(f -> {
                String name = f.getFileName().toString();
                return name.startsWith(prefix) && !name.startsWith(mine);
            }).toList();
        } catch (IOException e) {
            return 0;
        }
        stale.forEach(SharedMemoryFile::delete);
        return stale.size();
    }

    /** Creates {@code file} (it must not exist) of {@code bytes}, fully backed, and maps it read-write. */
    static NativeMemory.Mapping create(Path file, long bytes) throws IOException {
        // Opened outside the try below: a file that exists already is not ours to delete.
        FileChannel created = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try (FileChannel channel = created) {
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
