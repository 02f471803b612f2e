package dev.weightlift.operator.hub;

/** A request to an agent did not get its answer; the message names the node, the request and why. */
public final class AgentException extends RuntimeException {

    /** Why: the agent left, answered with a failure, did not answer in time, was never there, or spoke nonsense. */
    public enum Reason { GONE, FAILED, TIMEOUT, NOT_CONNECTED, PROTOCOL, HUB_CLOSED }

    private final String node;
    private final Reason reason;
    private final String refusal;

    public AgentException(String node, Reason reason, String message) {
        this(node, reason, message, null);
    }

    /** {@code refusal}: the reason word of an agent's refusal ({@code Failure.reason}), or null. */
    public AgentException(String node, Reason reason, String message, String refusal) {
        super(message);
        this.node = node;
        this.reason = reason;
        this.refusal = refusal;
    }

    public String node() {
        return node;
    }

    public Reason reason() {
        return reason;
    }

    /** Why the agent refused the request, as a word for status (e.g. {@code EngineProtocolUnsupported}), or null. */
    public String refusal() {
        return refusal;
    }
}
