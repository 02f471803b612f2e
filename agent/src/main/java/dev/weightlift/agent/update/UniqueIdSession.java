package dev.weightlift.agent.update;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.Gpu;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * One update's side of a collective bootstrapped from a unique id (NCCL's): the agent that holds rank 0 makes
 * the id while preparing (NCCL's bootstrap root then runs in its process, which stays up for the update), and
 * it is its join info (base64); the other agents' join info is empty. At run time the operator has handed every
 * agent all join infos by rank, so each joins with rank 0's; the local ranks join at once, each on its own
 * thread, since a join returns only when every rank has joined.
 */
final class UniqueIdSession implements CollectiveFactory.Session {

    /** Joins the collective of {@code uniqueId} as {@code rank} of {@code size} on {@code gpu}; blocks until all ranks joined. */
    @FunctionalInterface
    interface Joiner {
        Collective join(Gpu gpu, byte[] uniqueId, int rank, int size);
    }

    private final String update;
    private final Map<Integer, Gpu> gpus;
    private final Joiner joiner;
    private final String joinInfo;
    private final List<CompletableFuture<Collective>> joins = new ArrayList<>();
    private boolean closed;

    UniqueIdSession(String update, Map<Integer, Gpu> gpus, Supplier<byte[]> newUniqueId, Joiner joiner) {
        this.update = update;
        this.gpus = Map.copyOf(gpus);
        this.joiner = joiner;
        this.joinInfo = gpus.containsKey(0) ? Base64.getEncoder().encodeToString(newUniqueId.get()) : "";
    }

    @Override
    public String joinInfo() {
        return joinInfo;
    }

    @Override
    public Map<Integer, Collective> connect(List<String> joinInfo, Duration timeout) throws IOException {
        byte[] id = uniqueId(joinInfo);
        int size = joinInfo.size();
        Map<Integer, CompletableFuture<Collective>> byRank = new HashMap<>();
        synchronized (this) {
            if (closed) {
                throw new IOException("update " + update + ": the collective was closed before it connected");
            }
            for (Map.Entry<Integer, Gpu> rank : gpus.entrySet()) {
                CompletableFuture<Collective> join = new CompletableFuture<>();
                Thread thread = new Thread(() -> {
                    try {
                        join.complete(joiner.join(rank.getValue(), id, rank.getKey(), size));
                    } catch (RuntimeException e) {
                        join.completeExceptionally(e);
                    }
                }, "collective-join-" + update + "-r" + rank.getKey());
                thread.setDaemon(true);
                thread.start();
                joins.add(join);
                byRank.put(rank.getKey(), join);
            }
        }
        try {
            CompletableFuture.allOf(byRank.values().toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            close();
            throw new IOException("update " + update + ": the collective of " + size + " ranks did not form within "
                    + timeout.toMillis() + " ms (ranks " + gpus.keySet() + " of this node waiting for the others)", e);
        } catch (ExecutionException e) {
            close();
            throw new IOException("update " + update + ": joining the collective failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IOException("update " + update + ": interrupted while joining the collective", e);
        }
        Map<Integer, Collective> collectives = new HashMap<>();
        byRank.forEach((rank, join) -> collectives.put(rank, join.join()));
        return collectives;
    }

    private byte[] uniqueId(List<String> joinInfo) throws IOException {
        if (joinInfo.isEmpty() || joinInfo.get(0).isEmpty()) {
            throw new IOException("update " + update + ": the run carries no collective unique id from rank 0's agent");
        }
        try {
            return Base64.getDecoder().decode(joinInfo.get(0));
        } catch (IllegalArgumentException e) {
            throw new IOException("update " + update + ": rank 0's collective unique id is not base64: " + e.getMessage(), e);
        }
    }

    /**
     * Closes every collective joined so far, and any that joins later. A join still blocked inside the native
     * library is not interrupted; it ends when the other ranks' processes give up.
     */
    @Override
    public void close() {
        List<CompletableFuture<Collective>> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(joins);
            joins.clear();
        }
        all.forEach(join -> join.thenAccept(Collective::close));
    }
}
