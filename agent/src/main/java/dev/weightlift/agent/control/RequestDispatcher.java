package dev.weightlift.agent.control;

import dev.weightlift.protocol.Envelope;
import dev.weightlift.protocol.Failure;
import dev.weightlift.protocol.Message;
import dev.weightlift.protocol.MessageCodec;
import dev.weightlift.protocol.Request;
import dev.weightlift.protocol.RequestRefused;
import dev.weightlift.protocol.Response;
import dev.weightlift.protocol.UpdateProgress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the handler registered for each request type on its own thread and hands every response and progress
 * event to the {@link Outbox} (which queues them for the I/O thread). Unknown types and handler exceptions
 * become {@link Failure}s naming the node and the request.
 */
final class RequestDispatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RequestDispatcher.class);

    private final String node;
    private final Map<Class<?>, RequestHandler<?, ?>> handlers = new ConcurrentHashMap<>();
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "weightlift-control-handler");
        thread.setDaemon(true);
        return thread;
    });
    private final Outbox out;
    private final ClientMetrics metrics;

    /** Where handlers' messages go; both are called on handler threads. */
    interface Outbox {
        void progress(Envelope progress);

        /** Sent after every progress event of the same request handed over before it. */
        void respond(Envelope response);
    }

    RequestDispatcher(String node, Outbox out, ClientMetrics metrics) {
        this.node = node;
        this.out = out;
        this.metrics = metrics;
    }

    <R extends Response, Q extends Request<R>> void register(Class<Q> type, RequestHandler<Q, R> handler) {
        if (handlers.putIfAbsent(type, handler) != null) {
            throw new IllegalStateException("a handler for " + MessageCodec.typeName(type) + " is already registered");
        }
    }

    void dispatch(String id, Request<?> request) {
        workers.execute(() -> run(id, request));
    }

    private void run(String id, Request<?> request) {
        String type = MessageCodec.typeName(request.getClass());
        long start = System.nanoTime();
        Message response;
        RequestHandler<?, ?> handler = handlers.get(request.getClass());
        if (handler == null) {
            response = new Failure("the agent on node " + node + " has no handler for " + type);
        } else {
            try {
                response = call(handler, request, context(id));
            } catch (Exception e) {
                String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
                LOG.warn("request failed node={} request={} id={} error={}", node, type, id, why, e);
                response = new Failure(why, e instanceof RequestRefused refused ? refused.reason() : null);
            }
        }
        metrics.handled(type, !(response instanceof Failure), Duration.ofNanos(System.nanoTime() - start));
        out.respond(new Envelope(id, response));
    }

    @SuppressWarnings("unchecked")
    private static Response call(RequestHandler<?, ?> handler, Request<?> request, RequestContext context)
            throws Exception {
        Response response = ((RequestHandler<Request<Response>, Response>) handler).handle(
                (Request<Response>) request, context);
        if (!(response instanceof Failure) && !request.responseType().isInstance(response)) {
            throw new IllegalStateException("handler for " + MessageCodec.typeName(request.getClass()) + " returned "
                    + (response == null ? "null" : MessageCodec.typeName(response.getClass())) + ", expected "
                    + MessageCodec.typeName(request.responseType()));
        }
        return response;
    }

    private RequestContext context(String id) {
        return new RequestContext() {
            @Override
            public String requestId() {
                return id;
            }

            @Override
            public void progress(UpdateProgress progress) {
                out.progress(new Envelope(id, progress));
            }
        };
    }

    @Override
    public void close() {
        workers.shutdownNow();
        try {
            workers.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
