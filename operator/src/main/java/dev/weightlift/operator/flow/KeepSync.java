package dev.weightlift.operator.flow;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.reconciler.scaleup.PinnedVersions;
import dev.weightlift.operator.reconciler.weightupdate.AgentInfo;
import dev.weightlift.operator.reconciler.weightupdate.HeldVersion;
import dev.weightlift.protocol.KeepCheckpoints;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends every agent the versions it must keep pinned ({@link PinnedVersions#keep}): holders keep a version
 * while any WeightUpdate needs it (its own Broadcast, or filling pods that join later), and let it go when
 * none does. Looks every {@code interval} while this replica has the hub; sends an agent its list only when
 * the list changed or the agent registered anew (a restarted agent holds nothing pinned).
 */
public final class KeepSync implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KeepSync.class);
    private static final Duration REQUEST_DEADLINE = Duration.ofSeconds(10);

    private final KubernetesClient client;
    private final java.util.function.Supplier<AgentHub> hub;
    private final Set<String> namespaces;
    private final Map<String, String> sent = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "keep-sync");
        t.setDaemon(true);
        return t;
    });

    /** {@code namespaces}: the watched namespaces, empty for all. */
    public KeepSync(KubernetesClient client, java.util.function.Supplier<AgentHub> hub, Set<String> namespaces) {
        this.client = client;
        this.hub = hub;
        this.namespaces = Set.copyOf(namespaces);
    }

    public KeepSync start(Duration interval) {
        timer.scheduleWithFixedDelay(() -> {
            try {
                sync();
            } catch (RuntimeException e) {
                LOG.warn("keeping pins in sync failed: {}", e.toString());
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** One look: computes what every connected agent must keep and sends the lists that changed. */
    public void sync() {
        AgentHub current = hub.get();
        if (current == null) {
            return;
        }
        List<WeightUpdate> updates = new ArrayList<>();
        List<Pod> pods = new ArrayList<>();
        if (namespaces.isEmpty()) {
            updates.addAll(client.resources(WeightUpdate.class).inAnyNamespace().list().getItems());
        } else {
            for (String namespace : namespaces) {
                updates.addAll(client.resources(WeightUpdate.class).inNamespace(namespace).list().getItems());
            }
        }
        for (String namespace : new TreeSet<>(updates.stream().map(u -> u.getMetadata().getNamespace()).toList())) {
            pods.addAll(client.pods().inNamespace(namespace).list().getItems());
        }
        List<AgentInfo> agents = new HubAgentDirectory(() -> current).agents();
        Map<String, Set<HeldVersion>> keep = PinnedVersions.keep(updates, pods, agents);
        for (Map.Entry<String, Set<HeldVersion>> e : keep.entrySet()) {
            String node = e.getKey();
            String session = current.agent(node).map(a -> a.registration().session()).orElse(null);
            if (session == null) {
                continue;
            }
            String signature = session + " " + new TreeSet<>(e.getValue().stream().map(v -> v.checkpoint() + "@" + v.version()).toList());
            if (signature.equals(sent.get(node))) {
                continue;
            }
            List<KeepCheckpoints.Kept> kept = e.getValue().stream().map(v -> new KeepCheckpoints.Kept(v.checkpoint(), v.version())).toList();
            current.request(node, new KeepCheckpoints(kept), REQUEST_DEADLINE).whenComplete((ack, error) -> {
                if (error == null) {
                    sent.put(node, signature);
                    LOG.info("pins sent node={} keep={}", node, kept);
                } else {
                    LOG.warn("pins not taken node={}: {}", node, error.getMessage());
                }
            });
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
