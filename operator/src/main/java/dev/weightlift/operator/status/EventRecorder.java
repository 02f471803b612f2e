package dev.weightlift.operator.status;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records core/v1 Events, deduplicated: an Event's name is the object's name plus a hash of object, type,
 * reason and message, so a repeat bumps the {@code count} of the existing Event instead of adding one. Repeats
 * within {@code repeatInterval} are not sent at all, and one object gets at most {@code burst} Events per
 * interval. Uses only {@code create} and {@code patch} on events (the chart's RBAC); the count is kept in
 * memory. Best effort: a failure to record is logged, never thrown.
 */
public final class EventRecorder {

    private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
    private static final int REMEMBERED_KEYS = 4096;

    private final KubernetesClient client;
    private final Clock clock;
    private final String component;
    private final Duration repeatInterval;
    private final int burst;
    private final Map<String, Instant> lastSent = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
            return size() > REMEMBERED_KEYS;
        }
    };
    private final Map<String, Integer> counts = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
            return size() > REMEMBERED_KEYS;
        }
    };
    private final Map<String, Deque<Instant>> sentPerObject = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Deque<Instant>> eldest) {
            return size() > REMEMBERED_KEYS;
        }
    };

    public EventRecorder(KubernetesClient client, Clock clock, String component, Duration repeatInterval, int burst) {
        this.client = client;
        this.clock = clock;
        this.component = component;
        this.repeatInterval = repeatInterval;
        this.burst = burst;
    }

    public void normal(HasMetadata object, String reason, String message) {
        record(object, "Normal", reason, message);
    }

    public void warning(HasMetadata object, String reason, String message) {
        record(object, "Warning", reason, message);
    }

    private void record(HasMetadata object, String type, String reason, String message) {
        String objectKey = object.getKind() + "/" + object.getMetadata().getNamespace() + "/" + object.getMetadata().getName()
                + "/" + object.getMetadata().getUid();
        String name = object.getMetadata().getName() + "." + hash(objectKey + "/" + type + "/" + reason + "/" + message);
        Instant now = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS);
        int count = admit(objectKey, name, now);
        if (count == 0) {
            return;
        }
        String namespace = object.getMetadata().getNamespace();
        try {
            if (count == 1) {
                try {
                    client.v1().events().inNamespace(namespace).resource(newEvent(object, name, type, reason, message, now)).create();
                    return;
                } catch (KubernetesClientException e) {
                    if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                        throw e;
                    }
                    count = 2; // recorded before this process started: a repeat
                }
            }
            String bump = Serialization.asJson(Map.of("count", count, "lastTimestamp", now.toString()));
            try {
                client.v1().events().inNamespace(namespace).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), bump);
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
                    throw e;
                }
                Event expired = newEvent(object, name, type, reason, message, now);
                expired.setCount(count);
                client.v1().events().inNamespace(namespace).resource(expired).create();
            }
        } catch (KubernetesClientException e) {
            LOG.warn("could not record event reason={} code={}: {}", reason, e.getCode(), e.getMessage());
        }
    }

    /** The count the Event reaches with this occurrence, or 0 when it is not to be sent (repeat too soon, burst spent). */
    private synchronized int admit(String objectKey, String eventName, Instant now) {
        Instant last = lastSent.get(eventName);
        if (last != null && last.plus(repeatInterval).isAfter(now)) {
            return 0;
        }
        Deque<Instant> recent = sentPerObject.computeIfAbsent(objectKey, k -> new ArrayDeque<>());
        while (!recent.isEmpty() && !recent.peekFirst().plus(repeatInterval).isAfter(now)) {
            recent.removeFirst();
        }
        if (recent.size() >= burst) {
            LOG.debug("event rate limit reached for {}", objectKey);
            return 0;
        }
        recent.addLast(now);
        lastSent.put(eventName, now);
        return counts.merge(eventName, 1, Integer::sum);
    }

    private Event newEvent(HasMetadata object, String name, String type, String reason, String message, Instant now) {
        return new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(object.getMetadata().getNamespace()).endMetadata()
                .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(object.getApiVersion()).withKind(object.getKind())
                        .withName(object.getMetadata().getName()).withNamespace(object.getMetadata().getNamespace())
                        .withUid(object.getMetadata().getUid()).build())
                .withType(type).withReason(reason).withMessage(message)
                .withFirstTimestamp(now.toString()).withLastTimestamp(now.toString()).withCount(1)
                .withNewSource().withComponent(component).endSource()
                .withReportingComponent(component)
                .build();
    }

    private static String hash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }
}
