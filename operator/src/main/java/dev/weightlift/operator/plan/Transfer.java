package dev.weightlift.operator.plan;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One step of the schedule: a bucket loaded by a receiver GPU and broadcast from it to every target.
 * Broadcasts run in {@code step} order; loads of one {@code round} may run at the same time. Reads on
 * one sender link never share a round; an executor that overlaps rounds starts a read only after the
 * previous read on its sender link (in step order) has finished.
 *
 * @param step         position in the broadcast sequence
 * @param round        reads in the same round run concurrently (never two on one sender link)
 * @param bucket       bucket index
 * @param owner        participant id holding the bucket's bytes in host memory
 * @param receiver     participant id that loads the bucket into GPU memory and is the broadcast root
 *                     (the owner itself in broadcast mode)
 * @param slot         IPC slot the bucket is broadcast into (0 or 1)
 * @param senderLink   P2P only: the owner's link ({@code node/nic}) the read goes through
 * @param receiverLink P2P only: the receiver's link the read comes in on
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Transfer(int step, int round, int bucket, String owner, String receiver, int slot, String senderLink,
                       String receiverLink) {
}
