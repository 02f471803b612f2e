package dev.weightlift.operator.hub;

import dev.weightlift.protocol.Failure;
import dev.weightlift.protocol.MessageCodec;
import dev.weightlift.protocol.Request;
import dev.weightlift.protocol.Response;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests sent to agents and not yet answered, by request id, each with its node and deadline. Completes
 * nothing itself: it hands back what to complete, so the hub decides on which thread.
 */
final class PendingRequests {

    /** One request in flight; {@code future} is completed with the typed response or an AgentException. */
    record Pending(String id, String node, Request<?> request, CompletableFuture<Response> future,
                   long startNanos, long deadlineNanos) {

        String describe() {
            return MessageCodec.typeName(request.getClass()) + " " + id;
        }
    }

    /** What to do with a pending request: complete it with {@code response} or fail it with {@code error}. */
    record Outcome(Pending pending, Response response, AgentException error) {
    }

    private final Map<String, Pending> byId = new ConcurrentHashMap<>();

    void add(Pending pending) {
        byId.put(pending.id(), pending);
    }

    int size() {
        return byId.size();
    }

    /** Removes and returns the request {@code id} if {@code node} is the one it was sent to. */
    Pending take(String id, String node) {
        Pending pending = byId.get(id);
        if (pending == null || !pending.node().equals(node)) {
            return null;
        }
        return byId.remove(id, pending) ? pending : null;
    }

    /** The outcome of an agent's answer: the typed response, its Failure as an error, or a type mismatch. */
    static Outcome answer(Pending pending, Response response) {
        if (response instanceof Failure failure) {
            return new Outcome(pending, null, new AgentException(pending.node(), AgentException.Reason.FAILED,
                    "agent on node " + pending.node() + " failed " + pending.describe() + ": " + failure.error(), failure.reason()));
        }
        if (!pending.request().responseType().isInstance(response)) {
            return new Outcome(pending, null, new AgentException(pending.node(), AgentException.Reason.PROTOCOL,
                    "agent on node " + pending.node() + " answered " + pending.describe() + " with "
                            + MessageCodec.typeName(response.getClass()) + ", expected "
                            + MessageCodec.typeName(pending.request().responseType())));
        }
        return new Outcome(pending, response, null);
    }

    /** Removes every request to {@code node} and fails them with {@code why} (which should name the node). */
    List<Outcome> failNode(String node, AgentException.Reason reason, String why) {
        List<Outcome> failed = new ArrayList<>();
        for (Iterator<Pending> it = byId.values().iterator(); it.hasNext(); ) {
            Pending pending = it.next();
            if (pending.node().equals(node)) {
                it.remove();
                failed.add(new Outcome(pending, null, new AgentException(node, reason,
                        pending.describe() + " to node " + node + " failed: " + why)));
            }
        }
        return failed;
    }

    /** Removes and fails every request whose deadline is before {@code nowNanos}. */
    List<Outcome> expire(long nowNanos) {
        List<Outcome> expired = new ArrayList<>();
        for (Iterator<Pending> it = byId.values().iterator(); it.hasNext(); ) {
            Pending pending = it.next();
            if (nowNanos - pending.deadlineNanos() >= 0) {
                it.remove();
                long millis = (pending.deadlineNanos() - pending.startNanos()) / 1_000_000;
                expired.add(new Outcome(pending, null, new AgentException(pending.node(),
                        AgentException.Reason.TIMEOUT, "agent on node " + pending.node() + " did not answer "
                        + pending.describe() + " within " + millis + " ms")));
            }
        }
        return expired;
    }

    /** Removes and fails everything (the hub is closing). */
    List<Outcome> failAll(String why) {
        List<Outcome> failed = new ArrayList<>();
        for (Pending pending : List.copyOf(byId.values())) {
            if (byId.remove(pending.id(), pending)) {
                failed.add(new Outcome(pending, null, new AgentException(pending.node(),
                        AgentException.Reason.HUB_CLOSED, pending.describe() + " to node " + pending.node()
                        + " failed: " + why)));
            }
        }
        return failed;
    }
}
