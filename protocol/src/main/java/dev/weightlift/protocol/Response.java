package dev.weightlift.protocol;

/** The one answer of an agent to a {@link Request}. */
public sealed interface Response extends Message
        permits CheckpointLoaded, UpdatePrepared, UpdateResult, Ack, Failure {
}
