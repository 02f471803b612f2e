package dev.weightlift.operator.plan;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Predicts a schedule's time from bucket sizes and link speeds with a small event model: each step
 * starts when the resources it needs are free (the loader's staging buffer, the sender link, the
 * broadcast channel, the IPC slot the engine releases after reloading). All GPUs of a node are
 * assumed to load at once, sharing the node's H2D bandwidth.
 */
public final class PipelineModel {

    private PipelineModel() {
    }

    /**
     * @param steps          the plan's schedule
     * @param buckets        the plan's buckets, by index
     * @param nodeOf         node of every participant id
     * @param p2p            loads are network reads (else H2D)
     * @param broadcastNodes nodes spanned by the broadcast group
     */
    public static Prediction predict(List<Transfer> steps, List<Bucket> buckets, Map<String, String> nodeOf,
                                     boolean p2p, int broadcastNodes, BufferLayout layout, Bandwidths bw) {
        Map<String, Integer> loadersPerNode = new HashMap<>();
        steps.stream().map(Transfer::receiver).distinct()
                .forEach(r -> loadersPerNode.merge(nodeOf.get(r), 1, Integer::sum));
        double bcastRate = broadcastNodes > 1 ? Math.min(bw.broadcastIntraNodeGBps(), bw.broadcastInterNodeGBps())
                : bw.broadcastIntraNodeGBps();
        double overhead = bw.perBucketOverheadMs() / 1000;
        int n = steps.size();
        double[] load = new double[n];
        double[] bcast = new double[n];
        double[] reload = new double[n];
        for (int k = 0; k < n; k++) {
            Transfer t = steps.get(k);
            Bucket bucket = buckets.get(t.bucket());
            double gb = bucket.bytes() / 1e9;
            double h2d = Math.min(bw.h2dPerGpuGBps(), bw.h2dPerNodeGBps() / loadersPerNode.get(nodeOf.get(t.receiver())));
            load[k] = gb / (p2p ? Math.min(bw.nicGBps(), h2d) : h2d);
            bcast[k] = gb / bcastRate + overhead;
            reload[k] = gb / bw.reloadGBps() + bucket.tensors().size() * bw.reloadPerTensorUs() / 1e6;
        }

        double loadStage = 0;
        double broadcastStage = 0;
        double reloadStage = 0;
        double serial = 0;
        Map<String, Double> busy = new HashMap<>();
        double roundMax = 0;
        int round = -1;
        for (int k = 0; k < n; k++) {
            Transfer t = steps.get(k);
            if (t.round() != round) {
                loadStage += roundMax;
                roundMax = 0;
                round = t.round();
            }
            roundMax = Math.max(roundMax, load[k]);
            broadcastStage += bcast[k];
            reloadStage += reload[k];
            serial += load[k] + bcast[k] + reload[k];
            busy.merge("load:" + t.receiver(), load[k], Double::sum);
            if (t.senderLink() != null) {
                busy.merge("link:" + t.senderLink(), load[k], Double::sum);
            }
        }
        loadStage += roundMax;
        double bound = Math.max(Math.max(broadcastStage, reloadStage),
                busy.values().stream().mapToDouble(Double::doubleValue).max().orElse(0));
        return new Prediction(loadStage, broadcastStage, reloadStage, bound, serial,
                twoStage(steps, load, bcast, reload, layout), threeStage(steps, load, bcast, reload, layout));
    }

    /** checkpoint-engine: a round's loads in parallel, then its broadcasts; the next round waits. */
    private static double twoStage(List<Transfer> steps, double[] load, double[] bcast, double[] reload,
                                   BufferLayout layout) {
        double[] slotFree = new double[2];
        double bcastEnd = 0;
        double reloadEnd = 0;
        double roundStart = 0;
        int k = 0;
        while (k < steps.size()) {
            int round = steps.get(k).round();
            int end = k;
            double loadsDone = roundStart;
            while (end < steps.size() && steps.get(end).round() == round) {
                if (layout == BufferLayout.STAGED_DOUBLE_BUFFER) {
                    loadsDone = Math.max(loadsDone, roundStart + load[end]);
                }
                end++;
            }
            for (int s = k; s < end; s++) {
                int slot = steps.get(s).slot();
                double start = Math.max(Math.max(loadsDone, bcastEnd), slotFree[slot]);
                if (layout != BufferLayout.STAGED_DOUBLE_BUFFER) {
                    start += load[s];
                }
                bcastEnd = start + bcast[s];
                reloadEnd = Math.max(bcastEnd, reloadEnd) + reload[s];
                slotFree[slot] = reloadEnd;
            }
            roundStart = bcastEnd;
            k = end;
        }
        return reloadEnd;
    }

    /**
     * Weightlift: a loader refills its staging buffer as soon as its previous bucket has moved into an
     * IPC slot (a device copy at the start of its broadcast, as checkpoint-engine does it, whose time is
     * negligible next to H2D), so its next load overlaps that broadcast and the reloads.
     */
    private static double threeStage(List<Transfer> steps, double[] load, double[] bcast, double[] reload,
                                     BufferLayout layout) {
        Map<String, Double> loaderFree = new HashMap<>();
        Map<String, Double> linkFree = new HashMap<>();
        double[] slotFree = new double[2];
        double bcastEnd = 0;
        double reloadEnd = 0;
        for (int k = 0; k < steps.size(); k++) {
            Transfer t = steps.get(k);
            int slot = t.slot();
            double loadStart = Math.max(loaderFree.getOrDefault(t.receiver(), 0.0),
                    t.senderLink() == null ? 0 : linkFree.getOrDefault(t.senderLink(), 0.0));
            if (layout != BufferLayout.STAGED_DOUBLE_BUFFER) {
                loadStart = Math.max(loadStart, slotFree[slot]);
            }
            double loadEnd = loadStart + load[k];
            if (t.senderLink() != null) {
                linkFree.put(t.senderLink(), loadEnd);
            }
            double start = Math.max(Math.max(loadEnd, bcastEnd), slotFree[slot]);
            bcastEnd = start + bcast[k];
            reloadEnd = Math.max(bcastEnd, reloadEnd) + reload[k];
            slotFree[slot] = reloadEnd;
            loaderFree.put(t.receiver(), layout == BufferLayout.STAGED_DOUBLE_BUFFER ? start : loadEnd);
        }
        return reloadEnd;
    }
}
