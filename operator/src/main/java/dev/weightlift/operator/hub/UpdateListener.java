package dev.weightlift.operator.hub;

import dev.weightlift.protocol.UpdateProgress;
import dev.weightlift.protocol.UpdateResult;

/**
 * Progress and results of updates as agents report them. Called off the hub's I/O thread, in the order the
 * agent sent them (a result after its progress events); {@code requestId} is the run request's id.
 */
public interface UpdateListener {

    default void onProgress(String node, String requestId, UpdateProgress progress) {
    }

    default void onResult(String node, String requestId, UpdateResult result) {
    }
}
