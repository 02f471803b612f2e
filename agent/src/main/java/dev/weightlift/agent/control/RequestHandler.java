package dev.weightlift.agent.control;

import dev.weightlift.protocol.Request;
import dev.weightlift.protocol.Response;

/**
 * Does one kind of request on a handler thread (never the I/O thread) and returns its response. A thrown
 * exception is sent to the hub as a {@code Failure} with the exception's message.
 */
@FunctionalInterface
public interface RequestHandler<Q extends Request<R>, R extends Response> {

    R handle(Q request, RequestContext context) throws Exception;
}
