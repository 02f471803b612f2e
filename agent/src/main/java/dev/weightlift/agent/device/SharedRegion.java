package dev.weightlift.agent.device;

/** Device memory exported to other processes on the same GPU. */
public interface SharedRegion extends MemoryRegion {

    /** What a consumer needs to open this region: sent to the engine worker once per update. */
    ShareHandle handle();
}
