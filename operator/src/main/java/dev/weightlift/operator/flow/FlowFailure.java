package dev.weightlift.operator.flow;

import java.util.Map;

/** Why a Broadcast stopped: a condition reason, the message, and what went wrong per pod. */
final class FlowFailure extends Exception {

    private final String reason;
    private final Map<String, String> failedPods;

    FlowFailure(String reason, String message, Map<String, String> failedPods) {
        super(message);
        this.reason = reason;
        this.failedPods = Map.copyOf(failedPods);
    }

    FlowFailure(String reason, String message) {
        this(reason, message, Map.of());
    }

    String reason() {
        return reason;
    }

    Map<String, String> failedPods() {
        return failedPods;
    }
}
