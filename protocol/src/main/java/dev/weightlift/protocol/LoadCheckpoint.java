package dev.weightlift.protocol;

import java.util.List;
import java.util.Objects;

/** Read the assigned safetensors files of a checkpoint version into the host store. */
public record LoadCheckpoint(String name, String version, String sourcePath, List<String> files)
        implements Request<CheckpointLoaded> {

    public LoadCheckpoint {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(sourcePath, "sourcePath");
        files = List.copyOf(files);
    }

    @Override
    public Class<CheckpointLoaded> responseType() {
        return CheckpointLoaded.class;
    }
}
