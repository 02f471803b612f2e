package dev.weightlift.operator.testing;

import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.operator.reconciler.scaleup.EngineProbe;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Engines are down until the test brings them up, by pod ({@code namespace/name}). */
public final class FakeEngineProbe implements EngineProbe {

    private final Set<String> up = ConcurrentHashMap.newKeySet();

    public void up(String namespace, String pod) {
        up.add(namespace + "/" + pod);
    }

    @Override
    public Health probe(Target target, EngineSpec engine) {
        return up.contains(target.namespace() + "/" + target.pod()) ? Health.up("fake engine up")
                : Health.down("GET http://" + target.podIp() + ":" + engine.getPort() + "/health failed: Connection refused");
    }
}
