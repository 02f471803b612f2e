package dev.weightlift.agent.transport.ucx;

import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpParams;

/**
 * Loads UCX through JUCX once per process. JUCX ships only its JNI glue; UCX itself comes from the system
 * ({@code libucx0} on Debian). UCX picks the transports (RDMA verbs where present, shared memory between
 * processes of one host, TCP otherwise); {@code UCX_TLS} narrows them, and an empty {@code UCX_TLS} fails.
 */
public final class Ucx {

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
        return new UcpContext(new UcpParams().requestRmaFeature().requestWakeupFeature().setMtWorkersShared(true));
    }
}
