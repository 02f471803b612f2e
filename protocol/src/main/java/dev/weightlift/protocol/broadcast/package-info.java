/**
 * The Broadcast flow's payloads inside the generic control messages: {@link LoadedTensor} in
 * {@code CheckpointLoaded.tensors}, {@link NodeWork} in {@code PrepareUpdate.work}, {@link NodePrepared} (with its
 * {@link CollectiveAddress}) in {@code UpdatePrepared.details}, {@link RunWork} in {@code RunUpdate.work}. {@link WorkCodec} converts them.
 */
package dev.weightlift.protocol.broadcast;
