package dev.weightlift.protocol.broadcast;

import java.util.List;

/** What every agent needs to join the collective: the endpoint of each rank's agent, indexed by rank. */
public record RunWork(List<String> rankEndpoints) {
    public RunWork {
        rankEndpoints = List.copyOf(rankEndpoints);
    }
}
