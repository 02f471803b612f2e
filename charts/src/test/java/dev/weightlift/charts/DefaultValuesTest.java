package dev.weightlift.charts;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The chart with default values: what a platform team gets from `helm install weightlift`. */
class DefaultValuesTest {

  private static final RenderedChart CHART = RenderedChart.renderWithHooks(values -> {});
  private static final String FULLNAME = RELEASE + "-weightlift";

  @Test
  void operatorClusterRoleGrantsExactlyWhatTheOperatorNeeds() {
    JsonNode role = CHART.get("ClusterRole", FULLNAME + "-operator");

    assertEquals(Golden.read("operator-clusterrole-rules.yaml"), role.path("rules"));
  }

  @Test
  void operatorClusterRoleIsBoundClusterWideToTheOperatorServiceAccount() {
    JsonNode binding = CHART.get("ClusterRoleBinding", FULLNAME + "-operator");

    assertEquals(FULLNAME + "-operator", binding.path("roleRef").path("name").asText());
    assertEquals(serviceAccount(FULLNAME + "-operator"), binding.path("subjects"));
    assertEquals(FULLNAME + "-operator", podSpec(CHART.operatorDeployment()).path("serviceAccountName").asText());
  }

  @Test
  void leaderElectionIsARoleOnLeasesInTheReleaseNamespaceOnly() {
    JsonNode role = CHART.get("Role", FULLNAME + "-leader-election");
    JsonNode binding = CHART.get("RoleBinding", FULLNAME + "-leader-election");

    assertEquals(NAMESPACE, role.path("metadata").path("namespace").asText());
    assertEquals(Golden.read("leader-election-role-rules.yaml"), role.path("rules"));
    assertEquals("Role", binding.path("roleRef").path("kind").asText());
    assertEquals(serviceAccount(FULLNAME + "-operator"), binding.path("subjects"));
  }

  @Test
  void keyJobCreatesTheCurveSecretWithItsOwnMinimalRole() {
    String name = FULLNAME + "-curve-keygen";
    JsonNode job = CHART.get("Job", name);
    JsonNode keygen = container(job, "keygen");

    assertEquals(Golden.read("curve-keygen-role-rules.yaml"), CHART.get("Role", name).path("rules"));
    assertEquals(serviceAccount(name), CHART.get("RoleBinding", name).path("subjects"));
    assertEquals(name, podSpec(job).path("serviceAccountName").asText());
    assertEquals(
        List.of("java", "-cp", "/app/lib/*", "dev.weightlift.operator.tools.CurveKeySecretTool",
            "--secret", FULLNAME + "-curve", "--namespace", NAMESPACE),
        strings(keygen.path("command")));
    assertEquals("ghcr.io/weightlift-dev/weightlift-operator:0.1.0", keygen.path("image").asText());
    for (String hookResource : List.of("ServiceAccount", "Role", "RoleBinding", "Job")) {
      assertEquals("pre-install,pre-upgrade",
          CHART.get(hookResource, name).path("metadata").path("annotations").path(RenderedChart.HOOK_ANNOTATION).asText(),
          hookResource + " must run as a pre-install/pre-upgrade hook");
    }
    assertRestricted(podSpec(job), keygen);
  }

  @Test
  void keyJobAndItsRbacAreHooksOutsideTheReleaseManifest() {
    RenderedChart release = RenderedChart.withDefaults();

    assertTrue(release.ofKind("Job").isEmpty(), "the key Job must be a hook, not a release resource");
    assertFalse(release.has("Role", FULLNAME + "-curve-keygen"));
    assertTrue(release.has("Deployment", FULLNAME + "-operator"));
  }

  @Test
  void noSecretIsRenderedWhenTheKeyJobMakesIt() {
    assertTrue(CHART.ofKind("Secret").isEmpty(), "the key Job creates the Secret; Helm must not own it");
  }

  @Test
  void onlyTheExpectedRolesExistAndNoneUsesWildcards() {
    Set<String> roles = CHART.all().stream()
        .filter(m -> Set.of("Role", "ClusterRole").contains(m.path("kind").asText()))
        .map(m -> m.path("kind").asText() + "/" + m.path("metadata").path("name").asText())
        .collect(Collectors.toCollection(TreeSet::new));

    assertEquals(
        new TreeSet<>(List.of("ClusterRole/" + FULLNAME + "-operator", "Role/" + FULLNAME + "-leader-election",
            "Role/" + FULLNAME + "-curve-keygen")),
        roles);
    for (JsonNode manifest : CHART.all()) {
      for (JsonNode rule : manifest.path("rules")) {
        for (String field : List.of("apiGroups", "resources", "verbs")) {
          assertFalse(strings(rule.path(field)).contains("*"),
              manifest.path("metadata").path("name").asText() + " has a wildcard in " + field);
        }
      }
    }
  }

  @Test
  void noPodUsesHostNamespacesOrPrivilege() {
    List<JsonNode> podSpecs = new ArrayList<>();
    for (String kind : List.of("Deployment", "DaemonSet", "Job")) {
      CHART.ofKind(kind).forEach(workload -> podSpecs.add(podSpec(workload)));
    }

    assertEquals(3, podSpecs.size(), "pods of the operator, the agents and the key job");
    for (JsonNode spec : podSpecs) {
      for (String hostNamespace : List.of("hostIPC", "hostPID", "hostNetwork")) {
        assertFalse(spec.path(hostNamespace).asBoolean(false), hostNamespace + " set by default");
      }
      for (JsonNode container : spec.path("containers")) {
        assertFalse(container.path("securityContext").path("privileged").asBoolean(false),
            container.path("name").asText() + " is privileged by default");
      }
    }
  }

  @Test
  void operatorRunsTwoReplicasWithLeaderElectionFromTheDownwardApi() {
    JsonNode deployment = CHART.operatorDeployment();
    JsonNode operator = container(deployment, "operator");

    assertEquals(2, deployment.path("spec").path("replicas").asInt());
    assertTrue(env(operator, "POD_NAME").contains("\"fieldPath\":\"metadata.name\""));
    assertTrue(env(operator, "POD_NAMESPACE").contains("\"fieldPath\":\"metadata.namespace\""));
    assertEquals("", env(operator, "WEIGHTLIFT_WATCH_NAMESPACES"));
    assertEquals("tcp://*:7100", env(operator, "WEIGHTLIFT_HUB_BIND"));
    assertEquals("/etc/weightlift/curve", env(operator, "WEIGHTLIFT_CURVE_DIR"));
    assertEquals("/etc/weightlift/curve", mount(operator, "curve").path("mountPath").asText());
    assertEquals(List.of("server.public", "server.secret", "agent.public"),
        secretItems(volume(deployment, "curve")), "the operator gets the server keypair and the agents' public key");
    assertEquals(FULLNAME + "-curve", volume(deployment, "curve").path("secret").path("secretName").asText());
    assertEquals(0, deployment.path("spec").path("strategy").path("rollingUpdate").path("maxUnavailable").asInt(-1));
  }

  @Test
  void operatorProbesHitLivezAndReadyzOnTheHttpPort() {
    JsonNode operator = container(CHART.operatorDeployment(), "operator");

    assertEquals(8080, port(operator, "http"));
    assertEquals("8080", env(operator, "WEIGHTLIFT_HTTP_PORT"));
    assertEquals(7100, port(operator, "hub"));
    assertProbe(operator.path("livenessProbe"), "/livez");
    assertProbe(operator.path("readinessProbe"), "/readyz");
  }

  @Test
  void operatorIsNonRootWithAReadOnlyRootAndAWritableTmp() {
    JsonNode deployment = CHART.operatorDeployment();
    JsonNode operator = container(deployment, "operator");

    assertRestricted(podSpec(deployment), operator);
    assertEquals(podSpec(deployment).path("securityContext").path("runAsUser"),
        podSpec(deployment).path("securityContext").path("fsGroup"), "the non-root user must be able to read the mounted keys");
    assertTrue(volume(deployment, "tmp").has("emptyDir"));
    assertEquals("/tmp", mount(operator, "tmp").path("mountPath").asText());
    assertTrue(operator.path("resources").path("limits").has("memory"));
    assertTrue(operator.path("resources").path("requests").has("cpu"));
  }

  @Test
  void hubServiceRoutesPort7100ToTheOperatorsHubPort() {
    JsonNode hub = CHART.get("Service", FULLNAME + "-hub");
    JsonNode metrics = CHART.get("Service", FULLNAME + "-operator-metrics");

    assertEquals(7100, hub.path("spec").path("ports").get(0).path("port").asInt());
    assertEquals("hub", hub.path("spec").path("ports").get(0).path("targetPort").asText());
    assertEquals("http", metrics.path("spec").path("ports").get(0).path("targetPort").asText());
    JsonNode podLabels = CHART.operatorDeployment().path("spec").path("template").path("metadata").path("labels");
    for (JsonNode service : List.of(hub, metrics)) {
      service.path("spec").path("selector").fields().forEachRemaining(selector ->
          assertEquals(selector.getValue(), podLabels.path(selector.getKey()), "selector " + selector.getKey()));
    }
  }

  @Test
  void agentSeesEveryGpuWithoutRequestingAny() {
    JsonNode agent = container(CHART.agentDaemonSet(), "agent");

    assertEquals("all", env(agent, "NVIDIA_VISIBLE_DEVICES"));
    assertEquals("compute,utility", env(agent, "NVIDIA_DRIVER_CAPABILITIES"));
    for (String section : List.of("requests", "limits")) {
      agent.path("resources").path(section).fieldNames().forEachRemaining(resource ->
          assertFalse(resource.contains("gpu"), "agent " + section + " " + resource));
    }
    assertFalse(podSpec(CHART.agentDaemonSet()).has("runtimeClassName"));
  }

  @Test
  void agentSharesTheSocketDirectoryWithEnginePodsThroughAHostPath() {
    JsonNode daemonSet = CHART.agentDaemonSet();
    JsonNode agent = container(daemonSet, "agent");
    JsonNode sockets = volume(daemonSet, "sockets");

    assertEquals("/run/weightlift", sockets.path("hostPath").path("path").asText());
    assertEquals("DirectoryOrCreate", sockets.path("hostPath").path("type").asText());
    assertEquals("/run/weightlift", mount(agent, "sockets").path("mountPath").asText());
    assertEquals("/run/weightlift", env(agent, "WEIGHTLIFT_SOCKET_DIR"));
    assertEquals("0660", env(agent, "WEIGHTLIFT_SOCKET_MODE"));
    assertNull(env(agent, "WEIGHTLIFT_SOCKET_GROUP"));
  }

  @Test
  void agentDoesNotShareTheHostsShmByDefault() {
    JsonNode daemonSet = CHART.agentDaemonSet();

    for (JsonNode volume : podSpec(daemonSet).path("volumes")) {
      assertFalse(volume.path("hostPath").path("path").asText().startsWith("/dev"), volume.toString());
    }
  }

  @Test
  void agentMemoryLimitIsTheHostStoreBudgetPlusOverhead() {
    JsonNode agent = container(CHART.agentDaemonSet(), "agent");

    assertEquals("64Gi", env(agent, "WEIGHTLIFT_HOST_MEMORY_LIMIT"));
    assertEquals("68Gi", agent.path("resources").path("limits").path("memory").asText());
    assertEquals("68Gi", agent.path("resources").path("requests").path("memory").asText());
  }

  @Test
  void agentReachesTheHubServiceWithTheAgentKeypair() {
    JsonNode daemonSet = CHART.agentDaemonSet();
    JsonNode agent = container(daemonSet, "agent");

    assertEquals("tcp://" + FULLNAME + "-hub." + NAMESPACE + ".svc:7100", env(agent, "WEIGHTLIFT_HUB_ENDPOINT"));
    assertEquals(List.of("server.public", "agent.public", "agent.secret"), secretItems(volume(daemonSet, "curve")),
        "agents must not get the server's secret key");
    assertTrue(env(agent, "NODE_NAME").contains("\"fieldPath\":\"spec.nodeName\""));
    assertTrue(env(agent, "HOST_IP").contains("\"fieldPath\":\"status.hostIP\""));
    assertEquals("cuda", env(agent, "WEIGHTLIFT_BACKEND"));
    assertEquals("7200", env(agent, "WEIGHTLIFT_P2P_PORT"));
  }

  @Test
  void agentIsLockedDownAndProbedOnItsHttpPort() {
    JsonNode daemonSet = CHART.agentDaemonSet();
    JsonNode agent = container(daemonSet, "agent");
    JsonNode securityContext = agent.path("securityContext");

    assertEquals(9400, port(agent, "http"));
    assertEquals("9400", env(agent, "WEIGHTLIFT_HTTP_PORT"));
    assertProbe(agent.path("livenessProbe"), "/livez");
    assertTrue(securityContext.path("readOnlyRootFilesystem").asBoolean());
    assertFalse(securityContext.path("allowPrivilegeEscalation").asBoolean(true));
    assertEquals(List.of("ALL"), strings(securityContext.path("capabilities").path("drop")));
    assertFalse(securityContext.path("capabilities").has("add"));
    assertEquals("RuntimeDefault", podSpec(daemonSet).path("securityContext").path("seccompProfile").path("type").asText());
    assertFalse(podSpec(daemonSet).path("automountServiceAccountToken").asBoolean(true), "agents never call the API");
    assertEquals("/tmp", mount(agent, "tmp").path("mountPath").asText());
  }

  @Test
  void agentRunsOnGpuNodesAndReadsCheckpointsFromTheNode() {
    JsonNode daemonSet = CHART.agentDaemonSet();
    JsonNode agent = container(daemonSet, "agent");

    assertEquals("true", podSpec(daemonSet).path("nodeSelector").path("nvidia.com/gpu.present").asText());
    assertEquals("nvidia.com/gpu", podSpec(daemonSet).path("tolerations").get(0).path("key").asText());
    assertEquals("/mnt/checkpoints", volume(daemonSet, "checkpoints").path("hostPath").path("path").asText());
    assertEquals("/checkpoints", mount(agent, "checkpoints").path("mountPath").asText());
    assertTrue(mount(agent, "checkpoints").path("readOnly").asBoolean());
  }

  @Test
  void monitoringExtrasAreOffByDefault() {
    assertTrue(CHART.ofKind("ServiceMonitor").isEmpty());
    assertTrue(CHART.ofKind("ConfigMap").isEmpty());
  }

  static void assertProbe(JsonNode probe, String path) {
    assertNotNull(probe.path("httpGet").path("path").textValue(), "probe missing: " + probe);
    assertEquals(path, probe.path("httpGet").path("path").asText());
    assertEquals("http", probe.path("httpGet").path("port").asText());
  }

  static void assertRestricted(JsonNode podSpec, JsonNode container) {
    JsonNode securityContext = container.path("securityContext");
    assertTrue(podSpec.path("securityContext").path("runAsNonRoot").asBoolean());
    assertTrue(securityContext.path("runAsNonRoot").asBoolean());
    assertTrue(securityContext.path("readOnlyRootFilesystem").asBoolean());
    assertFalse(securityContext.path("allowPrivilegeEscalation").asBoolean(true));
    assertEquals(List.of("ALL"), strings(securityContext.path("capabilities").path("drop")));
    assertEquals("RuntimeDefault", securityContext.path("seccompProfile").path("type").asText());
  }

  static int port(JsonNode container, String name) {
    for (JsonNode port : container.path("ports")) {
      if (name.equals(port.path("name").asText())) {
        return port.path("containerPort").asInt();
      }
    }
    throw new AssertionError("no port " + name + " on " + container.path("name").asText());
  }

  static List<String> secretItems(JsonNode volume) {
    List<String> keys = new ArrayList<>();
    volume.path("secret").path("items").forEach(item -> keys.add(item.path("key").asText()));
    return keys;
  }

  static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(value -> values.add(value.asText()));
    return values;
  }

  private static JsonNode serviceAccount(String name) {
    return RenderedChart.YAML.createArrayNode().add(RenderedChart.YAML.createObjectNode()
        .put("kind", "ServiceAccount").put("name", name).put("namespace", NAMESPACE));
  }
}
