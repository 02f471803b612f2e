package dev.weightlift.operator.plan.sim;

import dev.weightlift.operator.plan.Holding;
import dev.weightlift.operator.plan.LoadAssignment;
import dev.weightlift.operator.plan.LoadPlanner;
import dev.weightlift.operator.plan.LoadRequest;
import dev.weightlift.operator.plan.Mode;
import dev.weightlift.operator.plan.Participant;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.PlanException;
import dev.weightlift.operator.plan.PlanRequest;
import dev.weightlift.operator.plan.Planner;
import dev.weightlift.operator.plan.ReceiverStrategy;
import dev.weightlift.operator.plan.SizingPolicy;
import dev.weightlift.operator.plan.TensorMeta;
import java.util.ArrayList;
import java.util.List;

/** Plans a described fleet with the real planner and predicts its times. Pure: no I/O. */
public final class FleetSimulator {

    private FleetSimulator() {
    }

    /**
     * @param broadcast            the broadcast plan
     * @param p2p                  the P2P plan with Weightlift's assignment, or null
     * @param p2pCheckpointEngine  the same P2P update with checkpoint-engine's assignment, or null
     */
    public record Result(FleetSpec fleet, Plan broadcast, Plan p2p, Plan p2pCheckpointEngine) {
    }

    public static Result simulate(FleetSpec fleet) {
        if (fleet.nodes() < 1 || fleet.gpusPerNode() < 1) {
            throw new PlanException(fleet.name() + ": nodes and gpusPerNode must be at least 1");
        }
        if (fleet.model() == null || fleet.bandwidths() == null) {
            throw new PlanException(fleet.name() + ": model and bandwidths are required");
        }
        List<Participant> gpus = gpus(fleet);
        List<TensorMeta> tensors = tensors(fleet.model());
        LoadAssignment load = LoadPlanner.assign(
                new LoadRequest(tensors, gpus, fleet.groupingPattern(), LoadRequest.Granularity.TENSOR));
        List<Holding> holdings = new ArrayList<>(gpus.size());
        for (int i = 0; i < gpus.size(); i++) {
            holdings.add(new Holding(gpus.get(i), load.owners().get(i).tensors()));
        }
        SizingPolicy sizing = SizingPolicy.defaults().withMemoryFraction(
                fleet.memoryFraction() > 0 ? fleet.memoryFraction() : 0.9);
        if (fleet.bucketGiB() != null) {
            sizing = sizing.withBucketBytes((long) (fleet.bucketGiB() * SizingPolicy.GIB));
        }
        PlanRequest broadcast = new PlanRequest(fleet.model().name(), Mode.BROADCAST, holdings, gpus, sizing,
                fleet.groupingPattern(), ReceiverStrategy.WEIGHTLIFT, fleet.bandwidths());
        Plan broadcastPlan = Planner.plan(broadcast);
        if (fleet.p2pTargetGpus() <= 0) {
            return new Result(fleet, broadcastPlan, null, null);
        }
        List<Participant> pool = fleet.p2pNewNodes() > 0
                ? gpus("new", fleet.p2pNewNodes(), fleet.gpusPerNode(), fleet.p2pNewNicsPerNode(), fleet.gpuFreeGiB())
                : gpus;
        List<Participant> targets = pool.subList(0, Math.min(fleet.p2pTargetGpus(), pool.size()));
        PlanRequest p2p = new PlanRequest(fleet.model().name(), Mode.P2P, holdings, targets, sizing,
                fleet.groupingPattern(), ReceiverStrategy.WEIGHTLIFT, fleet.bandwidths());
        return new Result(fleet, broadcastPlan, Planner.plan(p2p),
                Planner.plan(p2p.withReceivers(ReceiverStrategy.CHECKPOINT_ENGINE)));
    }

    static List<Participant> gpus(FleetSpec fleet) {
        return gpus("node", fleet.nodes(), fleet.gpusPerNode(), fleet.nicsPerNode(), fleet.gpuFreeGiB());
    }

    /** GPUs spread evenly over a node's NICs (several NICs per GPU when NICs outnumber GPUs). */
    private static List<Participant> gpus(String prefix, int nodes, int gpusPerNode, int nicsPerNode,
                                          double freeGiB) {
        long free = (long) (freeGiB * SizingPolicy.GIB);
        List<Participant> gpus = new ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            String node = String.format("%s-%03d", prefix, n);
            for (int g = 0; g < gpusPerNode; g++) {
                List<String> nics = new ArrayList<>();
                if (nicsPerNode >= gpusPerNode) {
                    int per = nicsPerNode / gpusPerNode;
                    for (int k = 0; k < per; k++) {
                        nics.add("mlx5_" + (g * per + k));
                    }
                } else if (nicsPerNode > 0) {
                    nics.add("mlx5_" + (g * nicsPerNode / gpusPerNode));
                }
                gpus.add(new Participant(node, g, "GPU-" + node + "-" + g, free, nics, "10." + prefix.length() + "." + n / 256 + "." + n % 256));
            }
        }
        return gpus;
    }

    /** The explicit tensor list, or one synthesised from the size summary, laid out in 4 GiB files. */
    public static List<TensorMeta> tensors(FleetSpec.ModelSpec model) {
        List<FleetSpec.TensorSpec> specs = model.tensors() != null && !model.tensors().isEmpty()
                ? model.tensors() : synthesise(model);
        List<TensorMeta> tensors = new ArrayList<>(specs.size());
        long fileBytes = 4 * SizingPolicy.GIB;
        long offset = 0;
        int file = 0;
        for (FleetSpec.TensorSpec t : specs) {
            if (offset > 0 && offset + t.bytes() > fileBytes) {
                file++;
                offset = 0;
            }
            tensors.add(new TensorMeta(t.name(), "BF16", List.of(t.bytes() / 2), t.bytes(),
                    String.format("model-%05d.safetensors", file), offset));
            offset += t.bytes();
        }
        return tensors;
    }

    private static List<FleetSpec.TensorSpec> synthesise(FleetSpec.ModelSpec m) {
        if (m.tensorCount() < 3 || m.totalBytes() < 2 * m.largestTensorBytes()) {
            throw new PlanException("model " + m.name() + ": a size summary needs tensorCount >= 3 and totalBytes"
                    + " >= 2 x largestTensorBytes");
        }
        long tinyBytes = 16 * 1024;
        int tiny = (int) ((m.tensorCount() - 2) * m.smallTensorFraction());
        int regular = m.tensorCount() - 2 - tiny;
        long rest = m.totalBytes() - 2 * m.largestTensorBytes() - (long) tiny * tinyBytes;
        if (regular < 1 || rest < regular) {
            throw new PlanException("model " + m.name() + ": summary leaves no bytes for regular tensors");
        }
        List<FleetSpec.TensorSpec> specs = new ArrayList<>(m.tensorCount());
        specs.add(new FleetSpec.TensorSpec("model.embed_tokens.weight", m.largestTensorBytes()));
        long each = rest / regular;
        long remainder = rest - each * regular;
        int perLayer = Math.max(1, (regular + tiny) / 64);
        int r = 0;
        int t = 0;
        for (int i = 0; i < regular + tiny; i++) {
            boolean isTiny = tiny > 0 && (long) t * regular < (long) r * tiny;
            String name = "model.layers." + i / perLayer + ".w" + i;
            if (isTiny) {
                specs.add(new FleetSpec.TensorSpec(name + "_scale", tinyBytes));
                t++;
            } else {
                specs.add(new FleetSpec.TensorSpec(name, each + (r == 0 ? remainder : 0)));
                r++;
            }
        }
        specs.add(new FleetSpec.TensorSpec("lm_head.weight", m.largestTensorBytes()));
        return specs;
    }
}
