package dev.weightlift.operator.hub;

import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.EngineInfo;
import dev.weightlift.protocol.Envelope;
import dev.weightlift.protocol.GpuInfo;
import dev.weightlift.protocol.Message;
import dev.weightlift.protocol.MessageCodec;
import dev.weightlift.protocol.NicInfo;
import dev.weightlift.protocol.ProtocolException;
import dev.weightlift.protocol.Register;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMonitor;

/** A bare DEALER speaking the protocol by hand, so hub tests control every frame (and can misbehave). */
public final class FakeAgent implements AutoCloseable {

    private final ZContext context = new ZContext(1);
    private final ZMQ.Socket socket;
    private final ZMonitor monitor;
    private final MessageCodec codec = new MessageCodec();
    final String node;

    /** {@code keys} null: a plain (NULL mechanism) connection. */
    public FakeAgent(String node, String endpoint, CurveKeys.AgentKeys keys) {
        this.node = node;
        socket = context.createSocket(SocketType.DEALER);
        socket.setLinger(0);
        socket.setHandshakeIvl(AgentHub.HANDSHAKE_TIMEOUT_MS);
        socket.setIdentity(node.getBytes(StandardCharsets.UTF_8));
        if (keys != null) {
            socket.setCurveServerKey(keys.serverPublic());
            socket.setCurvePublicKey(keys.agentPublic());
            socket.setCurveSecretKey(keys.agentSecret());
        }
        monitor = new ZMonitor(context, socket).add(ZMonitor.Event.DISCONNECTED).start();
        socket.connect(endpoint);
    }

    /** Waits until the hub drops this connection (what a refused handshake looks like from the client). */
    void awaitDisconnected(Duration deadline) {
        ZMonitor.ZEvent event = monitor.nextEvent((int) deadline.toMillis());
        if (event == null || event.type != ZMonitor.Event.DISCONNECTED) {
            throw new AssertionError("fake agent " + node + " was not disconnected within " + deadline);
        }
    }

    static AgentState state(long freeMemory) {
        return new AgentState(List.of(new GpuInfo(0, "GPU-0-of-x", 80L << 30, freeMemory),
                new GpuInfo(1, "GPU-1-of-x", 80L << 30, freeMemory)), List.of(),
                List.of(new EngineInfo("inference", "vllm-0", List.of("GPU-0-of-x", "GPU-1-of-x"))), List.of(), 0,
                1L << 30);
    }

    public Register registration(String session) {
        AgentState state = state(70L << 30);
        return new Register(node, session, "host", "10.0.0.9", 7200, "/run/weightlift", state.gpus(),
                List.of(new NicInfo("eth0", "10.0.0.9", 0)), state);
    }

    public void send(String id, Message message) {
        sendRaw(codec.encode(new Envelope(id, message)));
    }

    void sendRaw(byte[] frame) {
        if (!trySend(frame)) {
            throw new IllegalStateException("fake agent " + node + " could not send");
        }
    }

    /** Sends without blocking: false when the socket has no connection to queue on (a refused handshake). */
    boolean trySend(byte[] frame) {
        return socket.send(frame, ZMQ.DONTWAIT);
    }

    byte[] encode(Message message) {
        return codec.encode(new Envelope("x", message));
    }

    /** The next message of {@code type} (hub heartbeats and other types skipped), or an AssertionError at the deadline. */
    public <T extends Message> Received<T> receive(Class<T> type, Duration deadline) {
        long end = System.nanoTime() + deadline.toNanos();
        while (true) {
            long left = (end - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new AssertionError("fake agent " + node + " got no " + type.getSimpleName() + " within " + deadline);
            }
            socket.setReceiveTimeOut((int) left);
            byte[] frame = socket.recv(0);
            if (frame == null) {
                continue;
            }
            try {
                Envelope envelope = codec.decode(frame);
                if (type.isInstance(envelope.message())) {
                    return new Received<>(envelope.id(), type.cast(envelope.message()));
                }
            } catch (ProtocolException e) {
                throw new AssertionError("hub sent a malformed frame: " + e.getMessage(), e);
            }
        }
    }

    public record Received<T>(String id, T message) {
    }

    @Override
    public void close() {
        monitor.close();
        context.close();
    }
}
