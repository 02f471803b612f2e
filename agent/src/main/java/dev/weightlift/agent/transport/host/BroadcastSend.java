package dev.weightlift.agent.transport.host;

/**
 * What a rank's sender thread writes next: one broadcast's bytes, from {@code address}, as far as
 * {@code available} says they have arrived (guarded by the collective's progress lock).
 */
final class BroadcastSend {

    final long address;
    final long length;
    final int root;
    final long sequence;
    long available;
    boolean done;

    BroadcastSend(long address, long length, int root, long sequence) {
        this.address = address;
        this.length = length;
        this.root = root;
        this.sequence = sequence;
    }
}
