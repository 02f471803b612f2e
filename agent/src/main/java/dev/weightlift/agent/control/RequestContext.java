package dev.weightlift.agent.control;

import dev.weightlift.protocol.UpdateProgress;

/** What a request handler may do besides answering: name the request and report progress. */
public interface RequestContext {

    String requestId();

    /**
     * Reports progress with this request's id; thread-safe, never blocks. Progress is a level, not a log: the
     * client sends the latest report of each request at most every 100 ms, and the last one before the response.
     */
    void progress(UpdateProgress progress);
}
