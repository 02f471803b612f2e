package dev.weightlift.operator.plan;

import java.util.Map;
import java.util.TreeMap;

/**
 * Bytes per link of a plan.
 *
 * @param loadBytes               per loading GPU: H2D bytes (broadcast) or bytes read (P2P)
 * @param senderLinkBytes         P2P: bytes read through each owner link
 * @param receiverLinkBytes       P2P: bytes arriving on each receiver link
 * @param broadcastBytesPerTarget bytes every target receives through the broadcast (all buckets)
 */
public record Traffic(Map<String, Long> loadBytes, Map<String, Long> senderLinkBytes,
                      Map<String, Long> receiverLinkBytes, long broadcastBytesPerTarget) {

    public Traffic {
        loadBytes = new TreeMap<>(loadBytes);
        senderLinkBytes = new TreeMap<>(senderLinkBytes);
        receiverLinkBytes = new TreeMap<>(receiverLinkBytes);
    }
}
