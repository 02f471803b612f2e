package dev.weightlift.protocol;

/** The one answer of an agent to a {@link Request}. */
public sealed interface Response extends Message
        permits CheckpointLoaded, CheckpointExposed, UpdatePrepared, UpdateResult, Ack, Failure {
}
