package dev.weightlift.operator.flow;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.AgentInfo;
import dev.weightlift.operator.plan.Bandwidths;
import dev.weightlift.operator.plan.Mode;
import dev.weightlift.operator.plan.Participant;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.PlanRequest;
import dev.weightlift.operator.plan.Planner;
import dev.weightlift.operator.plan.ReceiverStrategy;
import dev.weightlift.operator.plan.TensorMeta;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.protocol.CheckpointExposed;
import dev.weightlift.protocol.ExposeCheckpoint;
import dev.weightlift.protocol.FetchCheckpoint;
import dev.weightlift.protocol.GpuInfo;
import dev.weightlift.protocol.ProtocolException;
import dev.weightlift.protocol.broadcast.FetchWork;
import dev.weightlift.protocol.broadcast.WorkCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The P2P step of a scale-up, before the ordinary pipeline: the holders expose the version (pinned host
 * buffers registered with their UCX listeners; no GPU work), the planner plans a P2P update from what they
 * hold to the new pod's GPUs, and the agent of the pod's node reads the buckets with one-sided gets into its
 * host store. A target node that holds a share of the version already (a Broadcast holder) exposes it too and
 * reads only the tensors it lacks. The tensors no holder has are left to the run's load, which tops the version
 * up from the source; the {@link ExecutionResult.Arrival} says what came from where.
 */
final class P2pFill implements BroadcastRun.Prefill {

    private static final Logger LOG = LoggerFactory.getLogger(P2pFill.class);

    private final AgentHub hub;
    private final WeightUpdate update;
    private final List<String> holders;

    P2pFill(AgentHub hub, WeightUpdate update, List<String> holders) {
        this.hub = hub;
        this.update = update;
        this.holders = List.copyOf(holders);
    }

    @Override
    public ExecutionResult.Arrival run(BroadcastRun run, List<TensorMeta> tensors, Map<String, Participant> targets) throws FlowFailure {
        String name = update.getSpec().getCheckpoint().getName();
        String version = update.getSpec().getCheckpoint().getVersion();
        String targetNode = targets.values().iterator().next().node();
        Set<String> asked = new TreeSet<>(holders);
        if (hub.agent(targetNode).map(a -> a.holds(name, version)).orElse(false)) {
            asked.add(targetNode);
        }
        Map<String, CompletableFuture<CheckpointExposed>> requests = new TreeMap<>();
        for (String holder : asked) {
            requests.put(holder, hub.request(holder, new ExposeCheckpoint(name, version), run.shortDeadline()));
        }
        Map<String, CheckpointExposed> exposed = run.awaitAll("asking the holders for their buffers", requests);
        List<P2pFetchPlanner.HolderView> views = new ArrayList<>();
        for (Map.Entry<String, CheckpointExposed> e : exposed.entrySet()) {
            CheckpointExposed answer = e.getValue();
            try {
                views.add(new P2pFetchPlanner.HolderView(owner(e.getKey(), answer.host()), answer.host(), answer.port(), answer.buffers(),
                        WorkCodec.tensors(answer.tensors())));
            } catch (ProtocolException ex) {
                throw new FlowFailure("AgentError", "the agent of node " + e.getKey() + " answered " + ex.getMessage());
            }
        }
        P2pFetchPlanner.Assignment assignment = P2pFetchPlanner.holdings(tensors, views, targetNode);
        if (!assignment.missing().isEmpty()) {
            LOG.info("holders miss tensors checkpoint={} version={} holders={} missing={} first={}: loading them from the source", name,
                    version, asked, assignment.missing().size(), assignment.missing().get(0).name());
        }
        List<String> readFrom = assignment.holdings().stream().map(h -> h.owner().node()).sorted().toList();
        if (!assignment.holdings().isEmpty()) {
            String grouping = update.getSpec().getGrouping() == null ? null : update.getSpec().getGrouping().getPattern();
            Plan plan = Planner.plan(new PlanRequest(name + "@" + version, Mode.P2P, assignment.holdings(), List.copyOf(targets.values()),
                    BroadcastPlanner.sizing(update.getSpec()), grouping, ReceiverStrategy.WEIGHTLIFT, Bandwidths.h200()));
            LOG.info("planned p2p fill update={}\n{}", run.id(), plan.summary());
            List<P2pFetchPlanner.HolderView> used = views.stream().filter(v -> readFrom.contains(v.owner().node())).toList();
            FetchWork work = P2pFetchPlanner.fetchWork(plan, used);
            run.abortOnFailure(targetNode);
            run.awaitAll("reading the checkpoint from the holders", Map.of(targetNode, hub.request(targetNode,
                    new FetchCheckpoint(run.id(), name, version, WorkCodec.toTree(work)), run.remaining())));
        }
        return new ExecutionResult.Arrival(readFrom, assignment.p2pBytes(), assignment.missingBytes(), assignment.missing().size(),
                assignment.heldBytes());
    }

    /** A holder as a plan owner: its first GPU stands for it (holders do no GPU work; the planner needs an id). */
    private Participant owner(String node, String host) throws FlowFailure {
        AgentInfo agent = hub.agent(node).orElseThrow(() -> new FlowFailure("AgentLost", "the agent of holder node " + node + " left"));
        GpuInfo gpu = agent.gpus().isEmpty() ? new GpuInfo(0, "host-" + node, 0, 0) : agent.gpus().get(0);
        return new Participant(node, gpu.index(), gpu.uuid(), gpu.freeMemory(), List.of(), host);
    }
}
