package dev.weightlift.operator.tools;

import dev.weightlift.protocol.CurveKeys;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code java -cp … dev.weightlift.operator.tools.CurveKeySecretTool --secret NAME --namespace NS}: the chart's
 * install hook. Creates the Secret NAME holding fresh {@link CurveKeys} (Z85 text) when it is missing, with the
 * in-cluster service account; an existing Secret is left untouched, so upgrades and re-installs keep the keys.
 * Needs only {@code create} on Secrets and {@code get} on NAME.
 */
public final class CurveKeySecretTool {

    static final String USAGE = "usage: CurveKeySecretTool --secret NAME --namespace NS";

    /** What a run did. */
    public enum Outcome {
        CREATED, LEFT_UNTOUCHED
    }

    /** The Secret cannot be made or used: an API error or an existing Secret without all four keys. */
    public static final class CurveSecretException extends RuntimeException {
        CurveSecretException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    record Arguments(String secret, String namespace) {

        static Arguments parse(List<String> args) {
            Map<String, String> options = new LinkedHashMap<>();
            for (int i = 0; i < args.size(); i += 2) {
                String option = args.get(i);
                if (!option.equals("--secret") && !option.equals("--namespace")) {
                    throw new IllegalArgumentException("unknown argument " + option);
                }
                if (i + 1 >= args.size() || args.get(i + 1).isBlank()) {
                    throw new IllegalArgumentException(option + " needs a value");
                }
                if (options.put(option, args.get(i + 1)) != null) {
                    throw new IllegalArgumentException(option + " given twice");
                }
            }
            for (String required : List.of("--secret", "--namespace")) {
                if (!options.containsKey(required)) {
                    throw new IllegalArgumentException(required + " is missing");
                }
            }
            return new Arguments(options.get("--secret"), options.get("--namespace"));
        }
    }

    private CurveKeySecretTool() {
    }

    public static void main(String[] args) {
        Arguments arguments;
        try {
            arguments = Arguments.parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage() + "\n" + USAGE);
            System.exit(2);
            return;
        }
        String secret = arguments.namespace() + "/" + arguments.secret();
        try (KubernetesClient client = new KubernetesClientBuilder().build()) {
            Outcome outcome = ensure(client, arguments.namespace(), arguments.secret());
            System.out.println(outcome == Outcome.CREATED
                    ? "created Secret " + secret + " with new CURVE keys " + String.join(", ", CurveKeys.NAMES)
                    : "Secret " + secret + " exists with all CURVE keys: left untouched");
        } catch (CurveSecretException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }

    /** Creates the Secret with new keys unless it exists; an existing one must hold all of {@link CurveKeys#NAMES}. */
    public static Outcome ensure(KubernetesClient client, String namespace, String name) {
        Secret existing = get(client, namespace, name);
        if (existing != null) {
            requireAllKeys(existing, namespace, name);
            return Outcome.LEFT_UNTOUCHED;
        }
        try {
            client.secrets().inNamespace(namespace).resource(keySecret(namespace, name)).create();
            return Outcome.CREATED;
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw apiError("create", namespace, name, e);
            }
        }
        Secret raced = get(client, namespace, name);
        if (raced == null) {
            throw new CurveSecretException("Secret " + namespace + "/" + name
                    + " was reported as existing on create but cannot be found", null);
        }
        requireAllKeys(raced, namespace, name);
        return Outcome.LEFT_UNTOUCHED;
    }

    private static Secret get(KubernetesClient client, String namespace, String name) {
        try {
            return client.secrets().inNamespace(namespace).withName(name).get();
        } catch (KubernetesClientException e) {
            throw apiError("get", namespace, name, e);
        }
    }

    private static void requireAllKeys(Secret secret, String namespace, String name) {
        Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
        List<String> missing = CurveKeys.NAMES.stream()
                .filter(key -> data.get(key) == null || data.get(key).isBlank()).toList();
        if (!missing.isEmpty()) {
            throw new CurveSecretException("Secret " + namespace + "/" + name + " exists but lacks "
                    + String.join(", ", missing) + " (it needs " + String.join(", ", CurveKeys.NAMES)
                    + "): add the missing keys, or delete the Secret to have new keys generated", null);
        }
    }

    private static Secret keySecret(String namespace, String name) {
        Map<String, String> data = new LinkedHashMap<>();
        CurveKeys.generateZ85().forEach((key, z85) ->
                data.put(key, Base64.getEncoder().encodeToString(z85.getBytes(StandardCharsets.US_ASCII))));
        return new SecretBuilder()
                .withNewMetadata()
                    .withName(name)
                    .withNamespace(namespace)
                    .addToLabels("app.kubernetes.io/part-of", "weightlift")
                    .addToLabels("app.kubernetes.io/component", "curve-keys")
                .endMetadata()
                .withType("Opaque")
                .withData(data)
                .build();
    }

    private static CurveSecretException apiError(String verb, String namespace, String name, KubernetesClientException e) {
        String status = e.getCode() > 0 ? "HTTP " + e.getCode() + ": " : "";
        return new CurveSecretException("cannot " + verb + " Secret " + namespace + "/" + name + ": " + status
                + e.getMessage(), e);
    }
}
