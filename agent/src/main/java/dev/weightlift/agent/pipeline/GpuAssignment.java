package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.engine.WorkerChannel;
import java.util.List;
import java.util.Objects;

/** One GPU's part of an update on this node: its worker channel, its buckets, and its collective (null: single rank). */
public record GpuAssignment(Gpu gpu, WorkerChannel channel, Collective collective, List<PipelineBucket> buckets,
        PipelineOptions options) {

    public GpuAssignment {
        Objects.requireNonNull(gpu, "gpu");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(options, "options");
        buckets = List.copyOf(buckets);
    }
}
