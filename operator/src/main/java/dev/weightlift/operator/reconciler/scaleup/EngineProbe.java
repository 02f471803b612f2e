package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.operator.reconciler.weightupdate.Target;

/** Whether a pod's inference engine is up and can take weights. Implementations answer within a bounded time. */
@FunctionalInterface
public interface EngineProbe {

    /** What the probe found: up, or down with why (for the pod's status message). */
    record Health(boolean up, String detail) {

        public static Health up(String detail) {
            return new Health(true, detail);
        }

        public static Health down(String detail) {
            return new Health(false, detail);
        }
    }

    /** Probes the engine of {@code target} (its pod IP) as {@code engine} describes it (type, port). */
    Health probe(Target target, EngineSpec engine);
}
