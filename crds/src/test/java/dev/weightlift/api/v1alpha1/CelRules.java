package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Evaluates the CRD's {@code x-kubernetes-validations} rules with a real CEL evaluator (cel-java). */
final class CelRules {

    /** One broken rule: where (JSON path like the schema validator's) and the rule's message. */
    record Violation(String path, String message) {
    }

    private final CelCompiler compiler = CelCompilerFactory.standardCelCompilerBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS).addVar("self", SimpleType.DYN).build();
    private final CelRuntime runtime = CelRuntimeFactory.standardCelRuntimeBuilder().build();
    private final JsonNode openApiSchema;

    CelRules(JsonNode openApiSchema) {
        this.openApiSchema = openApiSchema;
    }

    /** Violations of every rule whose subject exists in {@code defaultedInstance}. */
    List<Violation> check(JsonNode defaultedInstance) throws CelValidationException, CelEvaluationException {
        List<Violation> violations = new ArrayList<>();
        for (Map.Entry<List<String>, JsonNode> site : StructuralSchema.ruleSites(openApiSchema)) {
            JsonNode subject = defaultedInstance;
            for (String segment : site.getKey()) {
                subject = subject.path(segment);
            }
            if (subject.isMissingNode()) {
                continue;
            }
            String path = "$" + site.getKey().stream().map(s -> "." + s).reduce("", String::concat);
            for (JsonNode rule : site.getValue()) {
                CelAbstractSyntaxTree ast = compiler.compile(rule.path("rule").asText()).getAst();
                Object result = runtime.createProgram(ast).eval(Map.of("self", toCelValue(subject)));
                if (!Boolean.TRUE.equals(result)) {
                    violations.add(new Violation(path, rule.path("message").asText()));
                }
            }
        }
        return violations;
    }

    int ruleCount() {
        return StructuralSchema.ruleSites(openApiSchema).stream().mapToInt(site -> site.getValue().size()).sum();
    }

    private static Object toCelValue(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.fields().forEachRemaining(field -> map.put(field.getKey(), toCelValue(field.getValue())));
            return map;
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>();
            node.forEach(element -> list.add(toCelValue(element)));
            return list;
        }
        if (node.isIntegralNumber()) {
            return node.asLong();
        }
        if (node.isNumber()) {
            return node.asDouble();
        }
        if (node.isBoolean()) {
            return node.asBoolean();
        }
        return node.asText();
    }
}
