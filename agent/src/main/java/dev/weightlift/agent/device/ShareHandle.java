package dev.weightlift.agent.device;

import java.util.Arrays;
import java.util.Objects;

/**
 * How another process opens a {@link SharedRegion}: a CUDA IPC memory handle (64 bytes, opened with
 * {@code cudaIpcOpenMemHandle} on the GPU with {@code gpuUuid}) or a shared-memory file path.
 */
public record ShareHandle(Type type, String gpuUuid, long size, byte[] ipcHandle, String path) {

    public enum Type {
        CUDA_IPC, SHM_FILE
    }

    public ShareHandle {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(gpuUuid, "gpuUuid");
        if (type == Type.CUDA_IPC && (ipcHandle == null || ipcHandle.length != 64)) {
            throw new IllegalArgumentException("a CUDA IPC handle has 64 bytes");
        }
        if (type == Type.SHM_FILE && (path == null || path.isEmpty())) {
            throw new IllegalArgumentException("a shared-memory handle needs a path");
        }
        ipcHandle = ipcHandle == null ? null : ipcHandle.clone();
    }

    public static ShareHandle cudaIpc(String gpuUuid, long size, byte[] handle) {
        return new ShareHandle(Type.CUDA_IPC, gpuUuid, size, handle, null);
    }

    public static ShareHandle shmFile(String gpuUuid, long size, String path) {
        return new ShareHandle(Type.SHM_FILE, gpuUuid, size, null, path);
    }

    @Override
    public byte[] ipcHandle() {
        return ipcHandle == null ? null : ipcHandle.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShareHandle h && type == h.type && gpuUuid.equals(h.gpuUuid) && size == h.size
                && Arrays.equals(ipcHandle, h.ipcHandle) && Objects.equals(path, h.path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, gpuUuid, size, Arrays.hashCode(ipcHandle), path);
    }

    @Override
    public String toString() {
        return type == Type.CUDA_IPC ? "cuda-ipc[" + gpuUuid + ", " + size + " B]" : "shm[" + path + ", " + size + " B]";
    }
}
