package dev.weightlift.agent.bench;

import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.device.host.HostMemoryAllocator;
import dev.weightlift.agent.transport.ucx.BufferDescriptor;
import dev.weightlift.agent.transport.ucx.P2pHolder;
import dev.weightlift.agent.transport.ucx.P2pReceiver;
import dev.weightlift.agent.transport.ucx.P2pReceiverOptions;
import dev.weightlift.agent.transport.ucx.RangeRead;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * P2P throughput between two agent processes on this machine, next to the bound measured in the same run:
 * a plain TCP stream of the same bytes between the same two processes (the holder writes its buffers to a
 * socket, the receiver reads them into the same staging region). The holder is a child JVM running this
 * class with {@code holder}; the receiver alternates P2P reads and TCP streams of every buffer and keeps
 * the best run of each (the machine is shared). Every byte of the first P2P read and the first stream is
 * checked. Prints {@code ratio=R} last: the median over the runs of P2P / TCP stream within each run (a run pairs
 * the two back to back, so both see the same load on a shared machine).
 *
 * <p>Arguments: {@code --mib M} (total bytes, default 1024), {@code --buffers B} (4), {@code --runs N} (7),
 * {@code --chunk-mib C} (32), {@code --in-flight F} (8).
 */
public final class P2pBench {

    private static final int STREAM_SLICE = 64 << 20;

    private P2pBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("holder")) {
            holder(Long.parseLong(args[1]), Integer.parseInt(args[2]));
            return;
        }
        long total = Long.parseLong(arg(args, "--mib", "1024")) << 20;
        int bufferCount = Integer.parseInt(arg(args, "--buffers", "4"));
        int runs = Integer.parseInt(arg(args, "--runs", "7"));
        P2pReceiverOptions options = new P2pReceiverOptions(Long.parseLong(arg(args, "--chunk-mib", "32")) << 20,
                Integer.parseInt(arg(args, "--in-flight", "8")));
        long bufferBytes = total / bufferCount;
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), P2pBench.class.getName(), "holder", Long.toString(bufferBytes),
                Integer.toString(bufferCount))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (HostMemoryAllocator allocator = new HostMemoryAllocator(total + (64 << 20));
                MemoryRegion staging = allocator.allocatePinned(bufferBytes * bufferCount);
                P2pReceiver receiver = P2pReceiver.create(options)) {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            int p2pPort = -1;
            int streamPort = -1;
            List<BufferDescriptor> buffers = new ArrayList<>();
            for (String line = out.readLine(); line != null && !line.equals("@ready"); line = out.readLine()) {
                if (line.startsWith("@p2p ")) {
                    p2pPort = Integer.parseInt(line.substring(5));
                } else if (line.startsWith("@stream ")) {
                    streamPort = Integer.parseInt(line.substring(8));
                } else if (line.startsWith("@buffer ")) {
                    buffers.add(BufferDescriptor.fromBase64(line.substring(8)));
                }
            }
            if (buffers.size() != bufferCount) {
                throw new IllegalStateException("the holder process did not start");
            }
            InetSocketAddress holder = new InetSocketAddress("127.0.0.1", p2pPort);
            List<RangeRead> reads = new ArrayList<>();
            for (int b = 0; b < bufferCount; b++) {
                reads.add(new RangeRead(holder, buffers.get(b), 0, bufferBytes, b * bufferBytes));
            }
            long bytes = bufferBytes * bufferCount;
            System.out.printf("p2p bench: %d MiB in %d buffers, chunk %d MiB, %d in flight, UCX_TLS=%s%n", bytes >> 20,
                    bufferCount, options.chunkBytes() >> 20, options.maxInFlight(), System.getenv().getOrDefault("UCX_TLS", "(unset)"));
            double bestP2p = 0;
            double bestTcp = 0;
            double[] ratios = new double[runs];
            for (int run = 0; run < runs; run++) {
                NativeMemory.fill(staging.address(), 0, bytes);
                long start = System.nanoTime();
                receiver.read(reads, staging, Duration.ofMinutes(2));
                double p2p = bytes / ((System.nanoTime() - start) / 1e9);
                if (run == 0) {
                    verify(staging, bufferBytes, bufferCount, "p2p");
                }
                NativeMemory.fill(staging.address(), 0, bytes);
                start = System.nanoTime();
                stream(streamPort, staging, bytes);
                double tcp = bytes / ((System.nanoTime() - start) / 1e9);
                if (run == 0) {
                    verify(staging, bufferBytes, bufferCount, "tcp");
                }
                System.out.printf("run %d: p2p %.2f GB/s, tcp stream %.2f GB/s%n", run + 1, p2p / 1e9, tcp / 1e9);
                bestP2p = Math.max(bestP2p, p2p);
                bestTcp = Math.max(bestTcp, tcp);
                ratios[run] = p2p / tcp;
            }
            Arrays.sort(ratios);
            System.out.printf("p2p (best of %d): %.2f GB/s%n", runs, bestP2p / 1e9);
            System.out.printf("bound, plain TCP stream of the same bytes between the same processes (best of %d): %.2f GB/s%n",
                    runs, bestTcp / 1e9);
            System.out.printf("best p2p / best bound: %.2f; paired ratios %.2f..%.2f%n", bestP2p / bestTcp, ratios[0],
                    ratios[runs - 1]);
            System.out.printf("ratio=%.2f%n", ratios[runs / 2]);
        } finally {
            child.getOutputStream().close();
            child.waitFor();
        }
    }

    private static void holder(long bufferBytes, int bufferCount) throws Exception {
        try (HostMemoryAllocator allocator = new HostMemoryAllocator(bufferBytes * bufferCount + (64 << 20));
                P2pHolder holder = P2pHolder.start(new InetSocketAddress("127.0.0.1", 0));
                ServerSocketChannel streams = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            List<MemoryRegion> regions = new ArrayList<>();
            System.out.println("@p2p " + holder.address().getPort());
            System.out.println("@stream " + ((InetSocketAddress) streams.getLocalAddress()).getPort());
            for (int b = 0; b < bufferCount; b++) {
                MemoryRegion region = allocator.allocatePinned(bufferBytes);
                fill(region, b);
                regions.add(region);
                System.out.println("@buffer " + holder.expose("b" + b, region).toBase64());
            }
            System.out.println("@ready");
            System.out.flush();
            Thread server = new Thread(() -> serveStreams(streams, regions), "tcp-stream");
            server.setDaemon(true);
            server.start();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            streams.close();
            server.join(5_000);
            regions.forEach(MemoryRegion::close);
        }
    }

    private static void serveStreams(ServerSocketChannel streams, List<MemoryRegion> regions) {
        while (streams.isOpen()) {
            try (SocketChannel channel = streams.accept()) {
                for (MemoryRegion region : regions) {
                    for (long at = 0; at < region.size(); at += STREAM_SLICE) {
                        ByteBuffer view = NativeMemory.view(region.address() + at, (int) Math.min(STREAM_SLICE, region.size() - at));
                        while (view.hasRemaining()) {
                            channel.write(view);
                        }
                    }
                }
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void stream(int port, MemoryRegion staging, long bytes) throws IOException {
        try (SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
            for (long at = 0; at < bytes; at += STREAM_SLICE) {
                ByteBuffer view = NativeMemory.view(staging.address() + at, (int) Math.min(STREAM_SLICE, bytes - at));
                while (view.hasRemaining()) {
                    if (channel.read(view) < 0) {
                        throw new IOException("the holder's stream ended after " + (at + view.position()) + " of " + bytes + " bytes");
                    }
                }
            }
        }
    }

    private static void fill(MemoryRegion region, int buffer) {
        for (long at = 0; at < region.size(); at += STREAM_SLICE) {
            int length = (int) Math.min(STREAM_SLICE, region.size() - at);
            ByteBuffer view = NativeMemory.view(region.address() + at, length).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i + 8 <= length; i += 8) {
                view.putLong(i, word(buffer, at + i));
            }
        }
    }

    private static long word(int buffer, long position) {
        long x = (position + 1) * 0x9E3779B97F4A7C15L ^ (buffer + 1) * 0xBF58476D1CE4E5B9L;
        return x ^ (x >>> 31);
    }

    private static void verify(MemoryRegion staging, long bufferBytes, int bufferCount, String what) {
        for (int b = 0; b < bufferCount; b++) {
            for (long at = 0; at < bufferBytes; at += STREAM_SLICE) {
                int length = (int) Math.min(STREAM_SLICE, bufferBytes - at);
                ByteBuffer view = NativeMemory.view(staging.address() + b * bufferBytes + at, length).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i + 8 <= length; i += 8) {
                    if (view.getLong(i) != word(b, at + i)) {
                        throw new IllegalStateException(what + ": buffer " + b + " byte " + (at + i) + " is wrong");
                    }
                }
            }
        }
    }

    private static String arg(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
