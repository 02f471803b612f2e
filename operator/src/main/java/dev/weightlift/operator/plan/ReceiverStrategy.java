package dev.weightlift.operator.plan;

/** How P2P buckets are given to receivers. */
public enum ReceiverStrategy {
    /** {@link P2pAssignment}: every link of every owner and target, longest sender queue first. */
    WEIGHTLIFT,
    /** {@link CheckpointEngineAssignment}, for comparison. */
    CHECKPOINT_ENGINE
}
