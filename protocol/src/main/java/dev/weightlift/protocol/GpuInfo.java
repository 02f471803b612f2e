package dev.weightlift.protocol;

import java.util.Objects;

/** One GPU of a node as its agent sees it; {@code uuid} is what engine workers name themselves by. */
public record GpuInfo(int index, String uuid, long totalMemory, long freeMemory) {
    public GpuInfo {
        Objects.requireNonNull(uuid, "uuid");
    }
}
