package dev.weightlift.agent.pipeline;

import java.time.Duration;

/**
 * What one GPU's update did, with where its time went: {@code publishWait} (waiting for H2D and broadcast
 * of a bucket to complete), {@code ackWait} (waiting for the engine to load a bucket), {@code finish}
 * (release and the engine's post-load processing).
 */
public record PipelineResult(String gpuUuid, String version, int buckets, long bytes, Duration total,
        Duration connect, Duration publishWait, Duration ackWait, Duration finish, boolean staged) {

    /** Bytes per second over the whole update (connect excluded). */
    public double bytesPerSecond() {
        double seconds = (total.toNanos() - connect.toNanos()) / 1e9;
        return seconds <= 0 ? 0 : bytes / seconds;
    }
}
