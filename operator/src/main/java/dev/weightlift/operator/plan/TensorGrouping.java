package dev.weightlift.operator.plan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The CR's {@code spec.grouping.pattern}: a Java regex searched in every tensor name. Tensors it matches
 * are grouped by their group key, the values of the capturing groups that took part in the match,
 * joined by {@code /} (the whole match when the pattern has no capturing group); tensors it does not
 * match are free. Whatever a capturing group holds splits groups: to put all experts' gate and up
 * projections of a layer in one group, keep the expert index out of the captures, e.g.
 * {@code model\.layers\.(\d+)\.(?:(self_attn)|mlp\.(experts)\.\d+\.(?:gate_proj|up_proj|(down)_proj))}
 * gives the keys {@code 3/self_attn}, {@code 3/experts} and {@code 3/experts/down}. A group always
 * travels whole: it is loaded by one owner and packed into one bucket.
 */
public final class TensorGrouping {

    private static final TensorGrouping NONE = new TensorGrouping(null);

    private final Pattern pattern;

    private TensorGrouping(Pattern pattern) {
        this.pattern = pattern;
    }

    /** A grouping from the CR's pattern; null or blank means no grouping. */
    public static TensorGrouping of(String pattern) {
        if (pattern == null || pattern.isBlank()) {
            return NONE;
        }
        try {
            return new TensorGrouping(Pattern.compile(pattern));
        } catch (PatternSyntaxException e) {
            throw new PlanException("spec.grouping.pattern is not a valid Java regex: " + e.getDescription()
                    + " near index " + e.getIndex() + " of '" + pattern + "'");
        }
    }

    public boolean enabled() {
        return pattern != null;
    }

    /** The group key of a tensor, or null when the tensor is free. */
    public String keyOf(String tensorName) {
        if (pattern == null) {
            return null;
        }
        Matcher m = pattern.matcher(tensorName);
        if (!m.find()) {
            return null;
        }
        if (m.groupCount() == 0) {
            return m.group();
        }
        StringBuilder key = new StringBuilder();
        for (int g = 1; g <= m.groupCount(); g++) {
            String value = m.group(g);
            if (value != null) {
                key.append(key.isEmpty() ? "" : "/").append(value);
            }
        }
        return key.toString();
    }

    /**
     * Splits tensors into units that must stay together, in the order of each unit's first tensor:
     * one unit per group, one per free tensor.
     */
    public List<Unit> units(List<TensorMeta> tensors) {
        List<Unit> units = new ArrayList<>(tensors.size());
        Map<String, List<TensorMeta>> groups = new LinkedHashMap<>();
        Map<String, Integer> position = new LinkedHashMap<>();
        for (TensorMeta t : tensors) {
            String key = keyOf(t.name());
            if (key == null) {
                units.add(new Unit(null, List.of(t)));
            } else {
                List<TensorMeta> members = groups.get(key);
                if (members == null) {
                    members = new ArrayList<>();
                    groups.put(key, members);
                    position.put(key, units.size());
                    units.add(null);
                }
                members.add(t);
            }
        }
        groups.forEach((key, members) -> units.set(position.get(key), new Unit(key, members)));
        return units;
    }

    /**
     * Tensors that must travel together: a group, or one free tensor ({@code group} null). Made by
     * {@link #units}, which hands over lists nobody else holds, so they are not copied.
     */
    public record Unit(String group, List<TensorMeta> tensors) {

        public long alignedBytes() {
            long sum = 0;
            for (TensorMeta t : tensors) {
                sum += t.alignedBytes();
            }
            return sum;
        }

        public long bytes() {
            long sum = 0;
            for (TensorMeta t : tensors) {
                sum += t.bytes();
            }
            return sum;
        }

        /** How errors and summaries name this unit. */
        public String label() {
            return group != null ? "group '" + group + "' (" + tensors.size() + (tensors.size() == 1 ? " tensor)" : " tensors)")
                    : "tensor '" + tensors.get(0).name() + "'";
        }
    }
}
