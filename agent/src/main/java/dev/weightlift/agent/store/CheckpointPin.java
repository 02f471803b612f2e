package dev.weightlift.agent.store;

/**
 * Keeps a checkpoint version in memory while an update uses it; closing it lets retention drop the version
 * again. Closing twice is harmless.
 */
public interface CheckpointPin extends AutoCloseable {

    CheckpointVersion version();

    @Override
    void close();
}
