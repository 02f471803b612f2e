package dev.weightlift.protocol;

/**
 * Work the operator asks of one agent; the agent answers with exactly one {@code R} or a {@link Failure},
 * carrying the request's id, and may send {@link UpdateProgress} events with that id before it.
 */
public sealed interface Request<R extends Response> extends Message
        permits LoadCheckpoint, PrepareUpdate, RunUpdate, AbortUpdate, ReleaseCheckpoint {

    /** The response type that completes this request. */
    Class<R> responseType();
}
