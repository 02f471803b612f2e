package dev.weightlift.operator.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.weightlift.operator.reconciler.weightupdate.ExecutionListener;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionProgress;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BroadcastExecutorTest {

    @Test
    void aReplicaThatDoesNotLeadFailsTheUpdateAtOnceInsteadOfWaiting() throws Exception {
        CompletableFuture<ExecutionResult> result = new CompletableFuture<>();
        try (BroadcastExecutor executor = new BroadcastExecutor(() -> null, BroadcastExecutor.Deadlines.defaults(), new SimpleMeterRegistry())) {
            executor.start(BroadcastPlannerTest.update(), List.of(new Target("ns", "pod", "uid", "node", "10.0.0.1", List.of("GPU-1"))),
                    new ExecutionListener() {
                        @Override
                        public void progress(ExecutionProgress progress) {
                        }

                        @Override
                        public void finished(ExecutionResult finished) {
                            result.complete(finished);
                        }
                    });
            ExecutionResult finished = result.get(5, TimeUnit.SECONDS);
            assertFalse(finished.succeeded());
            assertEquals("NotLeading", finished.reason());
        }
    }
}
