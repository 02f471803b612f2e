package dev.weightlift.agent.store.safetensors;

import java.io.IOException;

/** A safetensors file or index that is malformed; the message names the file, the tensor and the problem. */
public final class SafetensorsException extends IOException {

    private final String file;
    private final String tensor;

    public SafetensorsException(String file, String tensor, String problem) {
        this(file, tensor, problem, null);
    }

    public SafetensorsException(String file, String tensor, String problem, Throwable cause) {
        super(file + (tensor == null ? "" : ": tensor '" + tensor + "'") + ": " + problem, cause);
        this.file = file;
        this.tensor = tensor;
    }

    public String file() {
        return file;
    }

    /** The tensor concerned, or null for a problem of the file as a whole. */
    public String tensor() {
        return tensor;
    }
}
