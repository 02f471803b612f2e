package dev.weightlift.agent.transport.ucx;

import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.host.HostMemoryAllocator;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A P2P holder in its own JVM for tests. Args: seed, buffer sizes. Prints (lines starting with {@code @})
 * {@code port P} and one {@code buffer BASE64} per buffer, then serves until stdin closes.
 */
public final class HolderProcess {

    private HolderProcess() {
    }

    public static void main(String[] args) throws Exception {
        long seed = Long.parseLong(args[0]);
        try (HostMemoryAllocator allocator = new HostMemoryAllocator(1L << 31);
                P2pHolder holder = P2pHolder.start(new InetSocketAddress("127.0.0.1", 0))) {
            List<MemoryRegion> regions = new ArrayList<>();
            System.out.println("@port " + holder.address().getPort());
            for (int i = 1; i < args.length; i++) {
                MemoryRegion region = allocator.allocatePinned(Long.parseLong(args[i]));
                regions.add(region);
                Pattern.fill(region, seed, i - 1);
                System.out.println("@buffer " + holder.expose("b" + (i - 1), region).toBase64());
            }
            System.out.println("@ready");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            regions.forEach(MemoryRegion::close);
        }
    }
}
