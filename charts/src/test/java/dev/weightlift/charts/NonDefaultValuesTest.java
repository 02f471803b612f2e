package dev.weightlift.charts;

import static dev.weightlift.charts.DefaultValuesTest.secretItems;
import static dev.weightlift.charts.DefaultValuesTest.strings;
import static dev.weightlift.charts.RenderedChart.NAMESPACE;
import static dev.weightlift.charts.RenderedChart.RELEASE;
import static dev.weightlift.charts.RenderedChart.container;
import static dev.weightlift.charts.RenderedChart.env;
import static dev.weightlift.charts.RenderedChart.mount;
import static dev.weightlift.charts.RenderedChart.podSpec;
import static dev.weightlift.charts.RenderedChart.volume;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every option that is off by default, switched on (src/test/resources/values-full.yaml). */
class NonDefaultValuesTest {

  private static final RenderedChart FULL =
      RenderedChart.renderWithHooks(values -> values.withValuesFile(RepoPaths.testResource("values-full.yaml")));
  private static final String FULLNAME = RELEASE + "-weightlift";

  @Test
  void serviceMonitorsScrapeTheOperatorAndEveryAgent() {
    for (String component : List.of("operator", "agent")) {
      JsonNode monitor = FULL.get("ServiceMonitor", FULLNAME + "-" + component);
      JsonNode endpoint = monitor.path("spec").path("endpoints").get(0);
      JsonNode service = FULL.get("Service", FULLNAME + "-" + component + "-metrics");

      assertEquals("prometheus", monitor.path("metadata").path("labels").path("release").asText());
      assertEquals("/metrics", endpoint.path("path").asText());
      monitor.path("spec").path("selector").path("matchLabels").fields().forEachRemaining(label ->
          assertEquals(label.getValue(), service.path("metadata").path("labels").path(label.getKey()),
              component + " metrics Service lacks label " + label.getKey()));
      assertEquals(endpoint.path("port").asText(), service.path("spec").path("ports").get(0).path("name").asText());
    }
    assertFalse(FULL.get("Service", FULLNAME + "-hub").path("metadata").path("labels").has("weightlift.dev/metrics"),
        "the hub Service has no metrics port and must not be selected");
  }

  @Test
  void dashboardIsAGrafanaSidecarConfigMapGraphingWeightliftMetrics() throws IOException {
    JsonNode configMap = FULL.get("ConfigMap", FULLNAME + "-dashboard");
    JsonNode dashboard = RenderedChart.YAML.readTree(configMap.path("data").path("weightlift.json").asText());

    assertEquals("monitoring", configMap.path("metadata").path("namespace").asText());
    assertEquals("1", configMap.path("metadata").path("labels").path("grafana_dashboard").asText());
    Set<String> metrics = new TreeSet<>();
    Pattern metric = Pattern.compile("\\b((?:weightlift|operator_sdk)_[a-z_]+)");
    for (JsonNode panel : dashboard.path("panels")) {
      assertFalse(panel.path("title").asText().isEmpty());
      for (JsonNode target : panel.path("targets")) {
        Matcher matcher = metric.matcher(target.path("expr").asText());
        while (matcher.find()) {
          metrics.add(matcher.group(1));
        }
      }
    }
    assertEquals(new TreeSet<>(List.of(
            "weightlift_updates_total", "weightlift_update_duration_seconds_sum",
            "weightlift_update_duration_seconds_count", "weightlift_update_duration_seconds_max",
            "weightlift_bytes_moved_total", "weightlift_agents_connected", "weightlift_pipeline_bytes_total",
            "weightlift_pipeline_stage_seconds_sum", "operator_sdk_reconciliations_started_total",
            "operator_sdk_reconciliations_success_total", "operator_sdk_reconciliations_failed_total")),
        metrics);
  }

  @Test
  void hostShmIsSharedWhenAsked() {
    JsonNode daemonSet = FULL.agentDaemonSet();

    assertEquals("/dev/shm", volume(daemonSet, "host-shm").path("hostPath").path("path").asText());
    assertEquals("/dev/shm", mount(container(daemonSet, "agent"), "host-shm").path("mountPath").asText());
  }

  @Test
  void rdmaThroughTheDevicePluginRequestsTheDeviceAndLocksMemory() {
    JsonNode agent = container(FULL.agentDaemonSet(), "agent");

    assertEquals(1, agent.path("resources").path("requests").path("rdma/hca_shared").asInt());
    assertEquals(1, agent.path("resources").path("limits").path("rdma/hca_shared").asInt());
    assertEquals(List.of("IPC_LOCK"), strings(agent.path("securityContext").path("capabilities").path("add")));
    assertFalse(agent.path("securityContext").path("privileged").asBoolean(false));
    assertNull(volume(FULL.agentDaemonSet(), "infiniband"));
  }

  @Test
  void privilegedRdmaMountsTheNodesInfinibandDevices() {
    RenderedChart chart = RenderedChart.withValuesFile("values-rdma-privileged.yaml");
    JsonNode agent = container(chart.agentDaemonSet(), "agent");

    assertTrue(agent.path("securityContext").path("privileged").asBoolean());
    assertFalse(agent.path("securityContext").has("allowPrivilegeEscalation"),
        "the API rejects allowPrivilegeEscalation=false with privileged=true");
    assertEquals("/dev/infiniband", volume(chart.agentDaemonSet(), "infiniband").path("hostPath").path("path").asText());
    assertEquals(List.of("IPC_LOCK"), strings(agent.path("securityContext").path("capabilities").path("add")));
    assertFalse(agent.path("resources").path("requests").has("rdma/hca"));
  }

  @Test
  void hostNetworkIsTheOnlyHostNamespaceTurnedOn() {
    JsonNode spec = podSpec(FULL.agentDaemonSet());

    assertTrue(spec.path("hostNetwork").asBoolean());
    assertEquals("ClusterFirstWithHostNet", spec.path("dnsPolicy").asText(), "hub Service DNS must still resolve");
    assertFalse(spec.has("hostIPC"));
    assertFalse(spec.has("hostPID"));
    assertFalse(podSpec(FULL.operatorDeployment()).has("hostNetwork"));
  }

  @Test
  void existingSecretIsMountedAndNothingGeneratesKeys() {
    for (JsonNode workload : List.of(FULL.operatorDeployment(), FULL.agentDaemonSet())) {
      assertEquals("weightlift-curve-keys", volume(workload, "curve").path("secret").path("secretName").asText());
    }
    assertTrue(FULL.ofKind("Job").isEmpty());
    assertTrue(FULL.ofKind("Secret").isEmpty());
    assertFalse(FULL.has("Role", FULLNAME + "-curve-keygen"));
  }

  @Test
  void givenKeysBecomeASecretAndRollThePodsWhenTheyChange() {
    RenderedChart chart = RenderedChart.renderWithHooks(
        values -> values.withValuesFile(RepoPaths.testResource("values-keys.yaml")));
    JsonNode secret = chart.get("Secret", FULLNAME + "-curve");

    assertEquals(new TreeSet<>(List.of("server.public", "server.secret", "agent.public", "agent.secret")),
        fieldNames(secret.path("stringData")));
    assertEquals("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", secret.path("stringData").path("server.public").asText());
    assertTrue(chart.ofKind("Job").isEmpty());
    for (JsonNode workload : List.of(chart.operatorDeployment(), chart.agentDaemonSet())) {
      assertEquals(FULLNAME + "-curve", volume(workload, "curve").path("secret").path("secretName").asText());
      assertNotNull(workload.path("spec").path("template").path("metadata").path("annotations")
          .path("checksum/curve-keys").textValue());
    }
  }

  @Test
  void watchedNamespacesGetRoleBindingsInsteadOfAClusterRoleBinding() {
    JsonNode operator = container(FULL.operatorDeployment(), "operator");

    assertTrue(FULL.ofKind("ClusterRoleBinding").isEmpty());
    for (String namespace : List.of("inference-a", "inference-b")) {
      JsonNode binding = FULL.all().stream()
          .filter(m -> "RoleBinding".equals(m.path("kind").asText()))
          .filter(m -> namespace.equals(m.path("metadata").path("namespace").asText()))
          .findFirst().orElseThrow(() -> new AssertionError("no RoleBinding in " + namespace));
      assertEquals("ClusterRole", binding.path("roleRef").path("kind").asText());
      assertEquals(FULLNAME + "-operator", binding.path("roleRef").path("name").asText());
      assertEquals(NAMESPACE, binding.path("subjects").get(0).path("namespace").asText());
    }
    assertEquals("inference-a,inference-b", env(operator, "WEIGHTLIFT_WATCH_NAMESPACES"));
    assertEquals("json", env(operator, "WEIGHTLIFT_LOG_FORMAT"));
  }

  @Test
  void agentOptionsReachThePodSpec() {
    JsonNode daemonSet = FULL.agentDaemonSet();
    JsonNode agent = container(daemonSet, "agent");

    assertEquals("nvidia", podSpec(daemonSet).path("runtimeClassName").asText());
    assertEquals("rl-checkpoints", volume(daemonSet, "checkpoints").path("persistentVolumeClaim").path("claimName").asText());
    assertEquals("2000", env(agent, "WEIGHTLIFT_SOCKET_GROUP"));
    assertEquals(List.of("2000"), strings(podSpec(daemonSet).path("securityContext").path("supplementalGroups")));
    assertEquals("200Gi", env(agent, "WEIGHTLIFT_HOST_MEMORY_LIMIT"));
    assertEquals("208Gi", agent.path("resources").path("limits").path("memory").asText());
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new TreeSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  void deadlinesSetInTheValuesReachTheOperatorsEnvironment() {
    JsonNode operator = container(FULL.operatorDeployment(), "operator");

    assertEquals("45s", env(operator, "WEIGHTLIFT_DEADLINE_REQUEST"));
    assertEquals("5m", env(operator, "WEIGHTLIFT_DEADLINE_STEP"));
    assertNull(env(operator, "WEIGHTLIFT_DEADLINE_ENGINE_CONNECT"), "an unset deadline keeps the operator's default");
    assertNull(env(operator, "WEIGHTLIFT_DEADLINE_ABORT"));
  }
}
