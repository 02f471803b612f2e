package dev.weightlift.protocol.broadcast;

import java.util.List;

/** What every agent needs to join the collective: the join info ({@link CollectiveAddress}) of each rank's agent, by rank. */
public record RunWork(List<String> rankEndpoints) {
    public RunWork {
        rankEndpoints = List.copyOf(rankEndpoints);
    }
}
