package dev.weightlift.agent.transport.ucx;

import java.util.Map;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpParams;

/**
 * Loads UCX through JUCX once per process. JUCX ships only its JNI glue; UCX itself comes from the system
 * ({@code libucx0} on Debian). UCX picks the transports (RDMA verbs where present, shared memory between
 * processes of one host, TCP otherwise); {@code UCX_TLS} narrows them, and an empty {@code UCX_TLS} fails.
 */
public final class Ucx {

    /**
     * Where there is no RDMA, UCX serves one-sided gets over TCP by active messages, in segments of
     * {@code TCP_TX_SEG_SIZE}; its default (8 KiB) costs a round of small sends per segment. 256 KiB
     * segments took a get on loopback from about 0.55 to about 0.85 of a plain TCP stream (docs/p2p.md).
     * {@code UCX_TCP_TX_SEG_SIZE} and {@code UCX_TCP_RX_SEG_SIZE} in the environment still win. (UCP applies
     * transport settings given to the context by their names within the transport, without its prefix.)
     */
    private static final Map<String, String> TCP_DEFAULTS = Map.of("TX_SEG_SIZE", "256k", "RX_SEG_SIZE", "256k");

    private static String unavailable;
    private static Throwable cause;
    private static boolean probed;

    private Ucx() {
    }

    /** Why UCX cannot be used here, or null when it loads. */
    public static synchronized String unavailableReason() {
        if (!probed) {
            probed = true;
            try {
                Class.forName(UcpContext.class.getName(), true, Ucx.class.getClassLoader());
            } catch (Throwable e) {
                cause = e;
                unavailable = "UCX is not available in this process: its native libraries could not be loaded (" + e
                        + "); install UCX (Debian: apt-get install libucx0, which provides libucp.so.0)";
            }
            String tls = System.getenv("UCX_TLS");
            if (unavailable == null && tls != null && tls.isBlank()) {
                unavailable = "UCX_TLS is set but empty, which UCX rejects; unset it or name transports (tcp, or rc,sm,self)";
            }
        }
        return unavailable;
    }

    /** A context for one-sided reads (RMA) whose workers can sleep until there is work. */
    static UcpContext newContext() {
        String reason = unavailableReason();
        if (reason != null) {
            throw new UcxUnavailableException(reason, cause);
        }
        UcpParams params = new UcpParams().requestRmaFeature().requestWakeupFeature().setMtWorkersShared(true);
        TCP_DEFAULTS.forEach((key, value) -> {
            if (System.getenv("UCX_TCP_" + key) == null) {
                params.setConfig(key, value);
            }
        });
        return new UcpContext(params);
    }
}
