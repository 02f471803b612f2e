package dev.weightlift.agent.control;

import dev.weightlift.protocol.UpdateProgress;

/** What a request handler may do besides answering: name the request and report progress. */
public interface RequestContext {

    String requestId();

    /** Sends a progress event with this request's id; thread-safe, never blocks. */
    void progress(UpdateProgress progress);
}
