package dev.weightlift.agent.transport.host;

import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One rank of a host collective in its own JVM, driven by a test over stdin/stdout. Args: update id, rank,
 * size, broadcast count, seed, mode ({@code run}: run the script and verify; {@code stall}: open and wait).
 * Prints (each line starting with {@code @}, between log lines) {@code port P}, reads the peers as
 * {@code host:port,...}, then prints {@code opened} and {@code ok}
 * or {@code failed: message}.
 */
public final class RankProcess {

    private RankProcess() {
    }

    public static void main(String[] args) throws Exception {
        String updateId = args[0];
        int rank = Integer.parseInt(args[1]);
        int size = Integer.parseInt(args[2]);
        BroadcastScript script = BroadcastScript.of(size, Integer.parseInt(args[3]), Long.parseLong(args[4]));
        String mode = args[5];
        Path shm = Files.createTempDirectory("rank-shm");
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        TransferOptions options = new TransferOptions(64 * 1024, Duration.ofSeconds(20), Duration.ofSeconds(2));
        try (HostBackend backend = new HostBackend(new HostBackendConfig("proc-" + rank, 1, 64L << 20, 64L << 20, shm,
                        Duration.ofSeconds(30)));
                TransferServer server = TransferServer.start(new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(20))) {
            System.out.println("@port " + server.address().getPort());
            System.out.flush();
            List<InetSocketAddress> peers = new ArrayList<>();
            for (String peer : stdin.readLine().trim().split(",")) {
                String[] hostPort = peer.split(":");
                peers.add(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
            }
            try (MemoryRegion region = backend.hostAllocator().allocatePinned(script.regionBytes());
                    CopyStream stream = backend.gpus().get(0).newStream("bcast");
                    TcpCollective collective = TcpCollective.open(server, updateId, rank, peers, options)) {
                System.out.println("@opened");
                System.out.flush();
                if (mode.equals("stall")) {
                    stdin.readLine();
                    return;
                }
                script.fillOwned(region, rank);
                for (BroadcastScript.Step step : script.steps()) {
                    collective.broadcast(region, step.offset(), step.length(), step.root(), stream);
                }
                try {
                    stream.synchronize();
                } catch (RuntimeException e) {
                    System.out.println("@failed: " + e.getMessage());
                    System.exit(3);
                }
                String mismatch = script.mismatch(region, rank);
                System.out.println(mismatch == null ? "@ok" : "@failed: " + mismatch);
            }
        }
    }
}
