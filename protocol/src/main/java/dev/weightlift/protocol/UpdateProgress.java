package dev.weightlift.protocol;

import java.util.Map;
import java.util.Objects;

/** Agent → hub while a {@link RunUpdate} runs, with the run request's id. Stage timings in milliseconds. */
public record UpdateProgress(
        String updateId,
        long bytesDone,
        long bytesTotal,
        int bucketsDone,
        int bucketsTotal,
        Map<String, Long> stageMillis) implements Message {

    public UpdateProgress {
        Objects.requireNonNull(updateId, "updateId");
        stageMillis = Map.copyOf(stageMillis);
    }
}
