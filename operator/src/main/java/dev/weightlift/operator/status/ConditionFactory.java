package dev.weightlift.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

/**
 * Makes status conditions. {@code lastTransitionTime} is the clock's now when the condition is new or its
 * status, reason or message changed, and the previous time otherwise.
 */
public final class ConditionFactory {

    public static final String READY = "Ready";
    public static final String PROGRESSING = "Progressing";
    public static final String DEGRADED = "Degraded";

    private final Clock clock;

    public ConditionFactory(Clock clock) {
        this.clock = clock;
    }

    public Condition make(List<Condition> previous, String type, boolean status, String reason, String message, Long generation) {
        String statusText = status ? "True" : "False";
        String text = message == null ? "" : message;
        String transition = find(previous, type)
                .filter(p -> statusText.equals(p.getStatus()) && reason.equals(p.getReason()) && text.equals(p.getMessage()))
                .map(Condition::getLastTransitionTime)
                .orElseGet(this::now);
        return new ConditionBuilder().withType(type).withStatus(statusText).withReason(reason).withMessage(text)
                .withObservedGeneration(generation).withLastTransitionTime(transition).build();
    }

    /** Now, in the API's timestamp form (RFC 3339, seconds). */
    public String now() {
        return Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    }

    public Instant instant() {
        return Instant.now(clock);
    }

    public static Optional<Condition> find(List<Condition> conditions, String type) {
        return conditions == null ? Optional.empty() : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }
}
