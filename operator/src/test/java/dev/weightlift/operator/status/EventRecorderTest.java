package dev.weightlift.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Events against the CRUD mock server: repeats bump one Event's count, within the interval they are dropped. */
@EnableKubernetesMockClient(crud = true)
class EventRecorderTest {

    static KubernetesClient client;

    /** A clock the test moves. */
    private static final class StepClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void repeatsBumpTheCountOfOneEventAndAreRateLimited() {
        StepClock clock = new StepClock();
        EventRecorder events = new EventRecorder(client, clock, "weightlift-operator", Duration.ofMinutes(1), 3);
        WeightUpdate update = update("step-1");

        events.warning(update, "AgentMissing", "no agent on node a");
        events.warning(update, "AgentMissing", "no agent on node a");
        assertEquals(List.of(1), counts());

        clock.now = clock.now.plusSeconds(61);
        events.warning(update, "AgentMissing", "no agent on node a");
        List<Event> items = client.v1().events().inNamespace("ns").list().getItems().stream()
                .filter(e -> "step-1".equals(e.getInvolvedObject().getName())).toList();
        assertEquals(1, items.size());
        assertEquals(2, items.get(0).getCount());
        assertEquals("2026-01-01T00:01:01Z", items.get(0).getLastTimestamp());
        assertEquals("step-1", items.get(0).getInvolvedObject().getName());
        assertEquals("Warning", items.get(0).getType());

        events.warning(update, "AgentMissing", "no agent on node b");
        events.warning(update, "AgentMissing", "no agent on node c");
        events.warning(update, "AgentMissing", "no agent on node d");
        assertEquals(3, client.v1().events().inNamespace("ns").list().getItems().stream()
                .filter(e -> "step-1".equals(e.getInvolvedObject().getName())).count(), "a fourth Event within the interval passes the burst of 3");
    }

    @Test
    void aRestartedRecorderBumpsTheEventItFinds() {
        WeightUpdate update = update("step-2");
        new EventRecorder(client, new StepClock(), "weightlift-operator", Duration.ofMinutes(1), 3).normal(update, "Started", "go");
        new EventRecorder(client, new StepClock(), "weightlift-operator", Duration.ofMinutes(1), 3).normal(update, "Started", "go");
        List<Event> started = client.v1().events().inNamespace("ns").list().getItems().stream()
                .filter(e -> "step-2".equals(e.getInvolvedObject().getName())).toList();
        assertEquals(1, started.size());
        assertEquals(2, started.get(0).getCount());
    }

    private static List<Integer> counts() {
        return client.v1().events().inNamespace("ns").list().getItems().stream()
                .filter(e -> "step-1".equals(e.getInvolvedObject().getName())).map(Event::getCount).toList();
    }

    private static WeightUpdate update(String name) {
        WeightUpdate update = new WeightUpdate();
        update.getMetadata().setName(name);
        update.getMetadata().setNamespace("ns");
        update.getMetadata().setUid("uid-1");
        return update;
    }
}
