package dev.weightlift.operator.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.protocol.CurveKeys;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** The install hook's key tool against the CRUD mock server, and the keys it makes in a real CURVE handshake. */
@EnableKubernetesMockClient(crud = true)
class CurveKeySecretToolTest {

    static KubernetesClient client;
    static KubernetesMockServer server;

    @TempDir
    Path dir;

    @Test
    void createsTheSecretOnceAndLeavesItOnTheNextRun() {
        assertEquals(CurveKeySecretTool.Outcome.CREATED, CurveKeySecretTool.ensure(client, "ns", "once"));
        Secret created = secret("ns", "once");
        assertEquals(CurveKeys.NAMES, List.copyOf(created.getData().keySet()));

        assertEquals(CurveKeySecretTool.Outcome.LEFT_UNTOUCHED, CurveKeySecretTool.ensure(client, "ns", "once"));
        Secret after = secret("ns", "once");
        assertEquals(created.getData(), after.getData());
        assertEquals(created.getMetadata().getResourceVersion(), after.getMetadata().getResourceVersion());
    }

    @Test
    void theKeysMakeACurveHandshakeWhenMountedAsFiles() throws IOException {
        CurveKeySecretTool.ensure(client, "ns", "handshake");
        secret("ns", "handshake").getData().forEach((key, base64) -> write(dir.resolve(key), base64));
        CurveKeys.HubKeys hub = CurveKeys.loadHub(dir);
        CurveKeys.AgentKeys agent = CurveKeys.loadAgent(dir);

        try (ZContext context = new ZContext(1)) {
            ZMQ.Socket router = context.createSocket(SocketType.ROUTER);
            router.setCurveServer(true);
            router.setCurvePublicKey(hub.serverPublic());
            router.setCurveSecretKey(hub.serverSecret());
            router.setReceiveTimeOut(5_000);
            int port = router.bindToRandomPort("tcp://127.0.0.1");
            ZMQ.Socket dealer = context.createSocket(SocketType.DEALER);
            dealer.setCurveServerKey(agent.serverPublic());
            dealer.setCurvePublicKey(agent.agentPublic());
            dealer.setCurveSecretKey(agent.agentSecret());
            dealer.connect("tcp://127.0.0.1:" + port);

            assertTrue(dealer.send("hello"));
            byte[] identity = router.recv();
            assertTrue(identity != null, "no message through the CURVE connection within 5 s: the handshake failed");
            assertEquals("hello", router.recvStr());
        }
    }

    @Test
    void anExistingSecretLackingAKeyIsAnErrorNamingIt() {
        Map<String, String> withoutAgentSecret = new LinkedHashMap<>();
        CurveKeys.generateZ85().forEach((key, z85) -> withoutAgentSecret.put(key, base64(z85)));
        withoutAgentSecret.remove(CurveKeys.AGENT_SECRET);
        client.secrets().inNamespace("ns").resource(new SecretBuilder()
                .withNewMetadata().withName("partial").endMetadata()
                .withData(withoutAgentSecret)
                .build()).create();

        CurveKeySecretTool.CurveSecretException e = assertThrows(CurveKeySecretTool.CurveSecretException.class,
                () -> CurveKeySecretTool.ensure(client, "ns", "partial"));

        assertTrue(e.getMessage().startsWith("Secret ns/partial exists but lacks agent.secret "), e.getMessage());
        assertEquals(3, secret("ns", "partial").getData().size(), "the tool must not touch an existing Secret");
    }

    @Test
    void apiErrorsNameTheCallAndTheSecret() {
        server.expect().get().withPath("/api/v1/namespaces/locked/secrets/curve")
                .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden")
                        .withMessage("secrets \"curve\" is forbidden").build())
                .once();
        server.expect().post().withPath("/api/v1/namespaces/readonly/secrets")
                .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden")
                        .withMessage("secrets is forbidden: cannot create").build())
                .once();

        CurveKeySecretTool.CurveSecretException get = assertThrows(CurveKeySecretTool.CurveSecretException.class,
                () -> CurveKeySecretTool.ensure(client, "locked", "curve"));
        CurveKeySecretTool.CurveSecretException create = assertThrows(CurveKeySecretTool.CurveSecretException.class,
                () -> CurveKeySecretTool.ensure(client, "readonly", "curve"));

        assertTrue(get.getMessage().startsWith("cannot get Secret locked/curve: HTTP 403: "), get.getMessage());
        assertTrue(create.getMessage().startsWith("cannot create Secret readonly/curve: HTTP 403: "), create.getMessage());
        assertTrue(create.getMessage().contains("cannot create"), create.getMessage());
    }

    @Test
    void theCommandCreatesThenReportsTheSecretItLeavesAlone() throws Exception {
        Run first = run("--secret", "cli", "--namespace", "ns");
        Run second = run("--namespace", "ns", "--secret", "cli");

        assertEquals(0, first.exitCode(), first.output());
        assertTrue(first.output().contains("created Secret ns/cli with new CURVE keys server.public, server.secret, "
                + "agent.public, agent.secret"), first.output());
        assertEquals(0, second.exitCode(), second.output());
        assertTrue(second.output().contains("Secret ns/cli exists with all CURVE keys: left untouched"), second.output());
        assertEquals(CurveKeys.NAMES, List.copyOf(secret("ns", "cli").getData().keySet()));
    }

    @Test
    void badArgumentsAreNamed() {
        assertEquals(new CurveKeySecretTool.Arguments("s", "n"),
                CurveKeySecretTool.Arguments.parse(List.of("--secret", "s", "--namespace", "n")));
        for (Map.Entry<List<String>, String> bad : Map.of(
                List.of("--secret", "s"), "--namespace is missing",
                List.of("--secret", "s", "--namespace"), "--namespace needs a value",
                List.of("--secret", "s", "--secret", "t", "--namespace", "n"), "--secret given twice",
                List.of("/tmp/keys"), "unknown argument /tmp/keys").entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CurveKeySecretTool.Arguments.parse(bad.getKey()));
            assertEquals(bad.getValue(), e.getMessage());
        }
    }

    private record Run(int exitCode, String output) {
    }

    /** The tool's main in its own JVM (exit code and output), configured for the mock server as in a cluster by its environment. */
    private Run run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                "-Dkubernetes.master=" + client.getConfiguration().getMasterUrl(),
                "-Dkubernetes.trust.certificates=true",
                "-Dkubernetes.tls.versions=TLSv1.2",
                "-Dkubernetes.auth.tryKubeConfig=false",
                "-Dkubernetes.auth.tryServiceAccount=false",
                CurveKeySecretTool.class.getName()));
        command.addAll(List.of(args));
        Path output = Files.createTempFile(dir, "tool", ".out");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("CurveKeySecretTool did not exit within 60 s: " + Files.readString(output));
        }
        return new Run(process.exitValue(), Files.readString(output));
    }

    private static Secret secret(String namespace, String name) {
        return client.secrets().inNamespace(namespace).withName(name).get();
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
    }

    private static void write(Path file, String base64) {
        try {
            Files.write(file, Base64.getDecoder().decode(base64));
        } catch (IOException e) {
            throw new AssertionError("cannot write " + file, e);
        }
    }
}
