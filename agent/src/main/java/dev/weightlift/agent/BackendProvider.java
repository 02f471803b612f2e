package dev.weightlift.agent;

import dev.weightlift.agent.device.DeviceBackend;

/**
 * Opens one device backend by name ({@code cuda}, {@code host}). Backends make themselves known by listing
 * their provider in {@code META-INF/services/dev.weightlift.agent.BackendProvider}.
 */
public interface BackendProvider {

    String name();

    DeviceBackend open(AgentEnvironment environment);
}
