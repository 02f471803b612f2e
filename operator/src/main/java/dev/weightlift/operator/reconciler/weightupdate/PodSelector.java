package dev.weightlift.operator.reconciler.weightupdate;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** A parsed, checked label selector: matches label maps the way the API server does. */
public final class PodSelector {

    private static final Pattern NAME = Pattern.compile("^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$");
    private static final Pattern PREFIX = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    private static final Pattern VALUE = Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");

    private record Requirement(String key, String operator, List<String> values) {

        boolean matches(Map<String, String> labels) {
            String value = labels.get(key);
            return switch (operator) {
                case "In" -> value != null && values.contains(value);
                case "NotIn" -> value == null || !values.contains(value);
                case "Exists" -> value != null;
                case "DoesNotExist" -> value == null;
                default -> throw new IllegalStateException(operator);
            };
        }

        @Override
        public String toString() {
            return switch (operator) {
                case "In" -> key + " in (" + String.join(",", values) + ")";
                case "NotIn" -> key + " notin (" + String.join(",", values) + ")";
                case "Exists" -> key;
                default -> "!" + key;
            };
        }
    }

    private final List<Requirement> requirements;

    private PodSelector(List<Requirement> requirements) {
        this.requirements = requirements;
    }

    /** Parses {@code selector}; adds a problem per bad entry (prefixed with {@code field}) and returns null then. */
    public static PodSelector parse(LabelSelector selector, String field, List<String> problems) {
        int before = problems.size();
        if (selector == null) {
            problems.add(field + ": required");
            return null;
        }
        List<Requirement> requirements = new ArrayList<>();
        Map<String, String> matchLabels = selector.getMatchLabels() == null ? Map.of() : new TreeMap<>(selector.getMatchLabels());
        matchLabels.forEach((key, value) -> {
            checkKey(key, field + ".matchLabels", problems);
            checkValue(value, field + ".matchLabels[" + key + "]", problems);
            requirements.add(new Requirement(key, "In", List.of(value == null ? "" : value)));
        });
        List<LabelSelectorRequirement> expressions = selector.getMatchExpressions() == null ? List.of() : selector.getMatchExpressions();
        for (int i = 0; i < expressions.size(); i++) {
            LabelSelectorRequirement e = expressions.get(i);
            String at = field + ".matchExpressions[" + i + "]";
            checkKey(e.getKey(), at + ".key", problems);
            List<String> values = e.getValues() == null ? List.of() : List.copyOf(e.getValues());
            String operator = e.getOperator();
            if ("In".equals(operator) || "NotIn".equals(operator)) {
                if (values.isEmpty()) {
                    problems.add(at + ".values: operator " + operator + " needs at least one value");
                }
                values.forEach(v -> checkValue(v, at + ".values", problems));
            } else if ("Exists".equals(operator) || "DoesNotExist".equals(operator)) {
                if (!values.isEmpty()) {
                    problems.add(at + ".values: operator " + operator + " takes no values");
                }
            } else {
                problems.add(at + ".operator: '" + operator + "' is not one of In, NotIn, Exists, DoesNotExist");
                continue;
            }
            requirements.add(new Requirement(e.getKey(), operator, values));
        }
        if (requirements.isEmpty() && problems.size() == before) {
            problems.add(field + ": must have matchLabels or matchExpressions: an empty selector would select every pod");
        }
        return problems.size() == before ? new PodSelector(List.copyOf(requirements)) : null;
    }

    public boolean matches(Map<String, String> labels) {
        Map<String, String> present = labels == null ? Map.of() : labels;
        return requirements.stream().allMatch(r -> r.matches(present));
    }

    /** The selector in kubectl's {@code -l} syntax, e.g. {@code app=llm,tier in (a,b)}. */
    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        for (Requirement r : requirements) {
            parts.add(r.operator().equals("In") && r.values().size() == 1 ? r.key() + "=" + r.values().get(0) : r.toString());
        }
        return String.join(",", parts);
    }

    private static void checkKey(String key, String field, List<String> problems) {
        if (key == null || key.isEmpty()) {
            problems.add(field + ": label key must not be empty");
            return;
        }
        int slash = key.indexOf('/');
        String prefix = slash < 0 ? null : key.substring(0, slash);
        String name = slash < 0 ? key : key.substring(slash + 1);
        if (prefix != null && (prefix.length() > 253 || !PREFIX.matcher(prefix).matches())) {
            problems.add(field + ": label key '" + key + "' has an invalid prefix (a DNS subdomain of at most 253 characters)");
        }
        if (!NAME.matcher(name).matches()) {
            problems.add(field + ": label key '" + key + "' is invalid (at most 63 characters: alphanumerics, '-', '_', '.', beginning and ending with an alphanumeric)");
        }
    }

    private static void checkValue(String value, String field, List<String> problems) {
        if (value != null && (value.length() > 63 || !VALUE.matcher(value).matches())) {
            problems.add(field + ": label value '" + value + "' is invalid (at most 63 characters: alphanumerics, '-', '_', '.', beginning and ending with an alphanumeric)");
        }
    }
}
