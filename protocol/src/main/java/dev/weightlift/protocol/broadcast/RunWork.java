package dev.weightlift.protocol.broadcast;

import java.util.List;
import java.util.Map;

/**
 * What every agent needs to run its part: the join info ({@link CollectiveAddress}) of each rank's agent, by rank
 * (on {@code cuda} only rank 0's carries something: the NCCL unique id its agent made), and under
 * {@code verify: Checksum} the CRC-32 of every bucket, by bucket index, as its owner computed it
 * ({@link NodePrepared}); empty otherwise.
 */
public record RunWork(List<String> rankEndpoints, Map<Integer, Long> bucketCrc32) {
    public RunWork {
        rankEndpoints = List.copyOf(rankEndpoints);
        bucketCrc32 = Map.copyOf(bucketCrc32);
    }
}
