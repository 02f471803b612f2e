package dev.weightlift.agent.pipeline;

import java.time.Duration;

/**
 * What one GPU's update did, with where its time went (time the pipeline's thread waited for each stage):
 * {@code connect} (the worker to connect), {@code setup} (allocate and share the buffer), {@code stageWait}
 * (H2D of a bucket), {@code publishWait} (staging copy and broadcast), {@code ackWait} (the engine loading
 * a bucket), {@code finish} (release, free, the engine's post-load processing). {@code inPlaceBuckets} of the
 * buckets were read by the engine straight from the host store, without a copy into the shared buffer.
 */
public record PipelineResult(String gpuUuid, String version, int buckets, long bytes, Duration total,
        Duration connect, Duration setup, Duration stageWait, Duration publishWait, Duration ackWait, Duration finish,
        boolean staged, int inPlaceBuckets) {

    /** Bytes per second over the whole update (connect excluded). */
    public double bytesPerSecond() {
        double seconds = (total.toNanos() - connect.toNanos()) / 1e9;
        return seconds <= 0 ? 0 : bytes / seconds;
    }
}
