package dev.weightlift.agent.control;

import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.Register;

/**
 * What the agent tells the hub, asked afresh on every (re)registration and heartbeat. Called on the client's
 * I/O thread: keep it quick and non-blocking.
 */
public interface AgentReport {

    /** The registration; its node must be the client's node. */
    Register registration();

    AgentState state();
}
