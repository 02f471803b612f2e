package dev.weightlift.operator.plan;

/**
 * Expected time of a plan, per stage and end to end, in seconds.
 *
 * @param loadSeconds       the load stage alone (H2D or P2P reads), rounds in parallel across loaders
 * @param broadcastSeconds  all broadcasts one after another
 * @param reloadSeconds     the engine's reload of every bucket
 * @param boundSeconds      the busiest single resource (a loader, a sender link, the broadcast, the reload)
 * @param serialSeconds     no overlap at all
 * @param twoStageSeconds   checkpoint-engine's schedule: loads of a round, then its broadcasts, reload
 *                          overlapped by the double buffer
 * @param threeStageSeconds Weightlift's schedule: loads overlap broadcasts and reloads
 */
public record Prediction(double loadSeconds, double broadcastSeconds, double reloadSeconds, double boundSeconds,
                         double serialSeconds, double twoStageSeconds, double threeStageSeconds) {

    public Prediction {
        loadSeconds = micros(loadSeconds);
        broadcastSeconds = micros(broadcastSeconds);
        reloadSeconds = micros(reloadSeconds);
        boundSeconds = micros(boundSeconds);
        serialSeconds = micros(serialSeconds);
        twoStageSeconds = micros(twoStageSeconds);
        threeStageSeconds = micros(threeStageSeconds);
    }

    private static double micros(double seconds) {
        return Math.round(seconds * 1e6) / 1e6;
    }

    /** Share of the bound the three-stage schedule reaches. */
    public double efficiency() {
        return threeStageSeconds == 0 ? 1 : boundSeconds / threeStageSeconds;
    }
}
