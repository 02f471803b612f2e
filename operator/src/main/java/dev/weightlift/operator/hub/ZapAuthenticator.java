package dev.weightlift.operator.hub;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.zeromq.ZFrame;
import org.zeromq.ZMsg;

/**
 * The hub's ZAP decisions (RFC 27): a CURVE client is admitted only with the agents' public key; every
 * other mechanism or key is refused. Pure: request in, reply out.
 */
final class ZapAuthenticator {

    static final String ENDPOINT = "inproc://zeromq.zap.01";
    private static final String VERSION = "1.0";

    /** The reply to send, and for a refusal the reason (null when admitted). */
    record Decision(ZMsg reply, String refusal, String address) {
    }

    private final byte[] agentPublicKey;

    ZapAuthenticator(byte[] agentPublicKey) {
        this.agentPublicKey = agentPublicKey.clone();
    }

    /** Frames: version, request id, domain, address, routing id, mechanism, credentials… */
    Decision decide(ZMsg request) {
        ZFrame[] frames = request.toArray(new ZFrame[0]);
        String requestId = frames.length > 1 ? frames[1].getString(StandardCharsets.UTF_8) : "";
        if (frames.length < 6 || !VERSION.equals(frames[0].getString(StandardCharsets.UTF_8))) {
            return refuse(requestId, "malformed ZAP request", "");
        }
        String address = frames[3].getString(StandardCharsets.UTF_8);
        String mechanism = frames[5].getString(StandardCharsets.UTF_8);
        if (!"CURVE".equals(mechanism)) {
            return refuse(requestId, "mechanism " + mechanism + " is not allowed", address);
        }
        if (frames.length < 7 || !Arrays.equals(frames[6].getData(), agentPublicKey)) {
            return refuse(requestId, "client key is not the agents' key", address);
        }
        return new Decision(reply(requestId, "200", "OK"), null, address);
    }

    private static Decision refuse(String requestId, String why, String address) {
        return new Decision(reply(requestId, "400", why), why, address);
    }

    private static ZMsg reply(String requestId, String status, String text) {
        ZMsg reply = new ZMsg();
        reply.add(VERSION);
        reply.add(requestId);
        reply.add(status);
        reply.add(text);
        reply.add("");
        reply.add("");
        return reply;
    }
}
