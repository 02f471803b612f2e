package dev.weightlift.protocol.broadcast;

import java.util.Map;
import java.util.Objects;

/**
 * An agent's answer to {@code PrepareUpdate}: its side of the collective and, under {@code verify: Checksum},
 * the CRC-32 of the tensors' bytes (in list order) of each bucket it owns, by bucket index, computed from the
 * host store it stages them from; the operator hands every agent all of them ({@link RunWork}), so the engine
 * workers that receive a bucket by broadcast check it against what its owner staged.
 */
public record NodePrepared(CollectiveAddress collective, Map<Integer, Long> bucketCrc32) {
    public NodePrepared {
        Objects.requireNonNull(collective, "collective");
        bucketCrc32 = Map.copyOf(bucketCrc32);
    }
}
