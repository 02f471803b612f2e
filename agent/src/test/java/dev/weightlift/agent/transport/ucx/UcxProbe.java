package dev.weightlift.agent.transport.ucx;

import java.net.InetSocketAddress;

/** Starts a holder in a JVM whose environment may hide UCX, and prints what happened (lines starting with {@code @}). */
public final class UcxProbe {

    private UcxProbe() {
    }

    public static void main(String[] args) {
        try (P2pHolder holder = P2pHolder.start(new InetSocketAddress("127.0.0.1", 0))) {
            System.out.println("@started " + holder.address().getPort());
        } catch (UcxUnavailableException e) {
            System.out.println("@unavailable " + e.getMessage());
        }
    }
}
