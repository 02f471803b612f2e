package dev.weightlift.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The status writer against the CRUD mock server: writes on change only. */
@EnableKubernetesMockClient(crud = true)
class StatusWriterTest {

    static KubernetesClient client;

    @Test
    void writesOnlyWhenMoreThanTimestampsChanged() {
        StatusWriter writer = new StatusWriter(client);
        WeightUpdate created = client.resource(update("a")).create();

        assertTrue(writer.write(created, status(Phase.Pending, "2026-01-01T00:00:00Z")));
        WeightUpdate written = client.resources(WeightUpdate.class).inNamespace("ns").withName("a").get();
        assertEquals(Phase.Pending, written.getStatus().getPhase());

        assertFalse(writer.write(written, status(Phase.Pending, "2026-01-01T00:05:00Z")), "only a timestamp differs");
        assertEquals(written.getMetadata().getResourceVersion(),
                client.resources(WeightUpdate.class).inNamespace("ns").withName("a").get().getMetadata().getResourceVersion());

        assertTrue(writer.write(written, status(Phase.Loading, "2026-01-01T00:05:00Z")));
        assertEquals(Phase.Loading, client.resources(WeightUpdate.class).inNamespace("ns").withName("a").get().getStatus().getPhase());
    }

    private static WeightUpdateStatus status(Phase phase, String transitionTime) {
        WeightUpdateStatus status = new WeightUpdateStatus();
        status.setObservedGeneration(1L);
        status.setPhase(phase);
        Condition ready = new ConditionBuilder().withType("Ready").withStatus("False").withReason("Updating").withMessage(phase.name())
                .withLastTransitionTime(transitionTime).build();
        status.setConditions(new ArrayList<>(List.of(ready)));
        return status;
    }

    private static WeightUpdate update(String name) {
        WeightUpdate update = new WeightUpdate();
        update.getMetadata().setName(name);
        update.getMetadata().setNamespace("ns");
        return update;
    }
}
