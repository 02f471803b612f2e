package dev.weightlift.agent;

import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.agent.update.UpdateService;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent process (DaemonSet): reads the runtime contract's environment, opens the device backend, serves
 * {@code /livez} and {@code /metrics}, and connects to the operator's hub until terminated. The data plane
 * ({@link UpdateService}: host store, engine socket, pipeline) is attached to the {@link Agent} between its
 * creation and its start.
 */
public final class AgentMain {

    private static final Logger LOG = LoggerFactory.getLogger(AgentMain.class);

    private AgentMain() {
    }

    public static void main(String[] args) throws Exception {
        AgentEnvironment environment = AgentEnvironment.from(System.getenv());
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        DeviceBackend backend = openBackend(environment);
        Agent agent = Agent.create(environment, backend, meters);
        UpdateService updates = UpdateService.attach(agent);
        AgentHttpServer http = AgentHttpServer.start(environment.httpPort(), meters);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            updates.close();
            http.close();
            backend.close();
            stopped.countDown();
        }, "weightlift-agent-shutdown"));
        agent.start();
        LOG.info("agent started node={} backend={} gpus={} hub={} httpPort={}", environment.nodeName(),
                backend.name(), backend.gpus().size(), environment.hubEndpoint(), http.port());
        stopped.await();
    }

    /** The backend named by {@code WEIGHTLIFT_BACKEND}, from the providers on the class path. */
    static DeviceBackend openBackend(AgentEnvironment environment) {
        List<BackendProvider> providers = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get).toList();
        return providers.stream().filter(p -> p.name().equals(environment.backend())).findFirst()
                .orElseThrow(() -> new IllegalStateException("WEIGHTLIFT_BACKEND='" + environment.backend()
                        + "' is not available in this build (available: "
                        + providers.stream().map(BackendProvider::name).toList() + ")"))
                .open(environment);
    }
}
