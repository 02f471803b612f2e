package dev.weightlift.agent.device;

import java.util.Objects;

/**
 * Where a region of host memory lies in a file that other processes of the node can map: {@code size} bytes
 * at {@code offset} of {@code path} (a file in the backend's shared-memory directory).
 */
public record FileWindow(String path, long offset, long size) {

    public FileWindow {
        Objects.requireNonNull(path, "path");
        if (offset < 0 || size <= 0) {
            throw new IllegalArgumentException("file window [" + offset + ", +" + size + ") of " + path);
        }
    }
}
