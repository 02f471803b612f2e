package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.CheckpointSpec;
import dev.weightlift.api.v1alpha1.EngineProtocol;
import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.api.v1alpha1.EngineType;
import dev.weightlift.api.v1alpha1.VerifyMode;
import dev.weightlift.api.v1alpha1.WeightUpdateSpec;
import dev.weightlift.operator.plan.PlanException;
import dev.weightlift.operator.plan.SizingPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Checks a spec beyond what the API server's schema does (or in its place, where no schema is enforced):
 * the selector parses, the grouping regex compiles, the bucket size parses and is sensible, and the
 * cross-field rules of the CRD's CEL validations hold. A pure function: problems, each naming its field.
 */
public final class SpecValidator {

    /** Smallest bucket that makes sense: a bucket below this costs more in round trips than it moves. */
    public static final long MIN_BUCKET_BYTES = 1L << 20;
    /** Largest bucket: no GPU has the room for a double-buffered bucket above this. */
    public static final long MAX_BUCKET_BYTES = 64L << 30;

    private static final Pattern CHECKPOINT_NAME = Pattern.compile("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");
    private static final Pattern VERSION = Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$");
    private static final Pattern TRIGGER_PATH = Pattern.compile("^/[A-Za-z0-9/_.-]*$");

    private SpecValidator() {
    }

    public static List<String> validate(WeightUpdateSpec spec) {
        List<String> problems = new ArrayList<>();
        if (spec == null) {
            problems.add("spec: required");
            return problems;
        }
        PodSelector.parse(spec.getSelector(), "spec.selector", problems);
        validateEngine(spec.getEngine(), problems);
        validateCheckpoint(spec.getCheckpoint(), problems);
        if (spec.getBucketSize() != null) {
            try {
                long bytes = SizingPolicy.fromSpec(spec.getBucketSize(), null).bucketBytesOverride();
                if (bytes < MIN_BUCKET_BYTES || bytes > MAX_BUCKET_BYTES) {
                    problems.add("spec.bucketSize: " + spec.getBucketSize() + " is outside [1Mi, 64Gi]");
                }
            } catch (PlanException e) {
                problems.add(e.getMessage());
            }
        }
        Double fraction = spec.getMemoryFraction();
        if (fraction != null && !(fraction > 0.0 && fraction <= 1.0)) {
            problems.add("spec.memoryFraction: " + fraction + " is outside (0, 1]");
        }
        if (spec.getTimeoutSeconds() != null && (spec.getTimeoutSeconds() < 1 || spec.getTimeoutSeconds() > 86400)) {
            problems.add("spec.timeoutSeconds: " + spec.getTimeoutSeconds() + " is outside [1, 86400]");
        }
        if (spec.getGrouping() != null) {
            String pattern = spec.getGrouping().getPattern();
            if (pattern == null || pattern.isEmpty()) {
                problems.add("spec.grouping.pattern: required");
            } else {
                try {
                    Pattern.compile(pattern);
                } catch (PatternSyntaxException e) {
                    problems.add("spec.grouping.pattern: does not compile: " + e.getDescription() + " near index " + e.getIndex());
                }
            }
        }
        EngineSpec engine = spec.getEngine();
        if (engine != null && spec.getVerify() == VerifyMode.Checksum && engine.getProtocol() != EngineProtocol.NATIVE) {
            problems.add("spec.verify: Checksum needs engine.protocol native (checkpoint-engine's protocol carries no checksums)");
        }
        return problems;
    }

    private static void validateEngine(EngineSpec engine, List<String> problems) {
        if (engine == null) {
            problems.add("spec.engine: required");
            return;
        }
        if (engine.getType() == null) {
            problems.add("spec.engine.type: required (vllm or sglang)");
        }
        if (engine.getProtocol() == null) {
            problems.add("spec.engine.protocol: required (native or checkpoint-engine)");
        }
        if (engine.getType() == EngineType.SGLANG && engine.getProtocol() != EngineProtocol.CHECKPOINT_ENGINE) {
            problems.add("spec.engine.protocol: engine.type sglang has no worker-extension hook: set engine.protocol to checkpoint-engine");
        }
        if (engine.getPort() == null || engine.getPort() < 1 || engine.getPort() > 65535) {
            problems.add("spec.engine.port: " + engine.getPort() + " is outside [1, 65535]");
        }
        if (engine.getGpusPerInstance() == null || engine.getGpusPerInstance() < 1 || engine.getGpusPerInstance() > 64) {
            problems.add("spec.engine.gpusPerInstance: " + engine.getGpusPerInstance() + " is outside [1, 64]");
        }
        if (engine.getTriggerPath() != null && !TRIGGER_PATH.matcher(engine.getTriggerPath()).matches()) {
            problems.add("spec.engine.triggerPath: '" + engine.getTriggerPath() + "' is not an absolute URL path");
        }
    }

    private static void validateCheckpoint(CheckpointSpec checkpoint, List<String> problems) {
        if (checkpoint == null) {
            problems.add("spec.checkpoint: required");
            return;
        }
        if (checkpoint.getName() == null || checkpoint.getName().length() > 63 || !CHECKPOINT_NAME.matcher(checkpoint.getName()).matches()) {
            problems.add("spec.checkpoint.name: '" + checkpoint.getName() + "' is not a lower-case DNS name of at most 63 characters");
        }
        if (checkpoint.getVersion() == null || checkpoint.getVersion().length() > 63 || !VERSION.matcher(checkpoint.getVersion()).matches()) {
            problems.add("spec.checkpoint.version: '" + checkpoint.getVersion() + "' is not 1-63 characters of alphanumerics, '.', '_', '-', beginning and ending with an alphanumeric");
        }
        if (checkpoint.getSource() == null || checkpoint.getSource().getPath() == null) {
            problems.add("spec.checkpoint.source.path: required");
        } else {
            String path = checkpoint.getSource().getPath();
            if (!path.startsWith("/")) {
                problems.add("spec.checkpoint.source.path: '" + path + "' is not absolute");
            } else if (hasParentSegment(path)) {
                problems.add("spec.checkpoint.source.path: '" + path + "' must not contain '..'");
            }
        }
        String manifest = checkpoint.getSha256Manifest();
        if (manifest != null && (manifest.startsWith("/") || hasParentSegment(manifest))) {
            problems.add("spec.checkpoint.sha256Manifest: '" + manifest + "' must be a path inside source.path (relative, without '..')");
        }
    }

    private static boolean hasParentSegment(String path) {
        for (Path segment : Path.of(path)) {
            if (segment.toString().equals("..")) {
                return true;
            }
        }
        return false;
    }
}
