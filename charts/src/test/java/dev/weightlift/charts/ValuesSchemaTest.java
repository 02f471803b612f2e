package dev.weightlift.charts;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad values fail at `helm install`/`template` with a message naming the field. */
class ValuesSchemaTest {

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "operator.replicas | two | '/operator/replicas': got string, want integer",
      "operator.replicas | 0 | '/operator/replicas': minimum",
      "operator.logFormat | yaml | '/operator/logFormat'",
      "operator.watchNamespaces[0] | Not_A_Namespace | '/operator/watchNamespaces/0'",
      "agent.hostIPC | true | 'hostIPC' not allowed",
      "agent.backend | rocm | '/agent/backend'",
      "agent.rdma.mode | sriov | '/agent/rdma/mode'",
      "agent.checkpoints.type | s3 | '/agent/checkpoints/type'",
      "agent.hostStore.limitGi | lots | '/agent/hostStore/limitGi'",
      "agent.httpPort | 70000 | '/agent/httpPort': maximum",
      "agent.socketDir | run/weightlift | '/agent/socketDir'",
      "agent.resources.requests.memory | 8Gi | '/agent/resources/requests/memory'",
      "curve.keys.agentPublic | too-short | '/curve/keys/agentPublic'",
      "metrics.serviceMonitor.enable | true | 'enable' not allowed",
  })
  void schemaRejectsBadValueNamingTheField(String key, String value, String field) {
    Exception failure = assertThrows(Exception.class, () -> RenderedChart.withSet(Map.of(key, value)));

    assertTrue(failure.getMessage().contains(field), () -> "message does not name " + field + ": " + failure.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "curve.keys.serverPublic | rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7 | give all four keys",
      "agent.checkpoints.claimName | '' | agent.checkpoints.claimName is required",
  })
  void templatesRejectInconsistentValues(String key, String value, String message) {
    Map<String, Object> values = key.startsWith("agent.checkpoints")
        ? Map.of("agent.checkpoints.type", "pvc", key, value)
        : Map.of(key, value);

    Exception failure = assertThrows(Exception.class, () -> RenderedChart.withSet(values));

    assertTrue(failure.getMessage().contains(message), () -> "expected '" + message + "' in: " + failure.getMessage());
  }
}
