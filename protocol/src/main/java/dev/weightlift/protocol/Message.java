package dev.weightlift.protocol;

/**
 * Every control-plane message between the operator's hub and an agent. The codec names each message by
 * its simple class name (the {@code type} field on the wire), so the permitted records are the protocol.
 */
public sealed interface Message
        permits Register, Registered, NotRegistered, Heartbeat, Goodbye, UpdateProgress, Request, Response {
}
