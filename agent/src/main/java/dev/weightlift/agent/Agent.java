package dev.weightlift.agent;

import dev.weightlift.agent.control.ClientConfig;
import dev.weightlift.agent.control.ControlClient;
import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.protocol.CurveKeys;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.UUID;

/**
 * One agent process's parts, put together: its environment, device backend, meters and control client.
 * The host store and the pipeline attach here before {@link #start()}: they register their request handlers
 * on {@link #control()} and their heartbeat figures through {@link #statusSources(StatusSources)}.
 */
public final class Agent implements AutoCloseable {

    private final AgentEnvironment environment;
    private final DeviceBackend backend;
    private final MeterRegistry meters;
    private final String session = UUID.randomUUID().toString();
    private final NodeReport report;
    private final ControlClient control;

    private Agent(AgentEnvironment environment, DeviceBackend backend, MeterRegistry meters) throws IOException {
        this.environment = environment;
        this.backend = backend;
        this.meters = meters;
        this.report = new NodeReport(environment, session, backend, NetworkInterfaces.list());
        ClientConfig config = ClientConfig.of(environment.nodeName(), environment.hubEndpoint(),
                CurveKeys.loadAgent(environment.curveDir()));
        this.control = new ControlClient(config, report, meters);
    }

    /** Reads the CURVE keys; connects nothing until {@link #start()}. The backend stays the caller's to close. */
    public static Agent create(AgentEnvironment environment, DeviceBackend backend, MeterRegistry meters)
            throws IOException {
        return new Agent(environment, backend, meters);
    }

    public AgentEnvironment environment() {
        return environment;
    }

    public DeviceBackend backend() {
        return backend;
    }

    public MeterRegistry meters() {
        return meters;
    }

    /** Fixed for the life of this process; the hub tells a restarted agent by a new session. */
    public String session() {
        return session;
    }

    public ControlClient control() {
        return control;
    }

    public void statusSources(StatusSources sources) {
        report.sources(sources);
    }

    public void start() {
        control.start();
    }

    @Override
    public void close() {
        control.close();
    }
}
