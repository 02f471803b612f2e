package dev.weightlift.operator.hub;

/** A request to an agent did not get its answer; the message names the node, the request and why. */
public final class AgentException extends RuntimeException {

    /** Why: the agent left, answered with a failure, did not answer in time, was never there, or spoke nonsense. */
    public enum Reason { GONE, FAILED, TIMEOUT, NOT_CONNECTED, PROTOCOL, HUB_CLOSED }

    private final String node;
    private final Reason reason;

    public AgentException(String node, Reason reason, String message) {
        super(message);
        this.node = node;
        this.reason = reason;
    }

    public String node() {
        return node;
    }

    public Reason reason() {
        return reason;
    }
}
