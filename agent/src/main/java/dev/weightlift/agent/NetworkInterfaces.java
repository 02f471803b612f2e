package dev.weightlift.agent;

import dev.weightlift.protocol.NicInfo;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The node's NICs that P2P reads can be served from: up, not loopback, with an IPv4 address. */
final class NetworkInterfaces {

    private static final long BITS_PER_MEGABIT = 1_000_000L;

    private NetworkInterfaces() {
    }

    static List<NicInfo> list() {
        List<NicInfo> nics = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback()) {
                    continue;
                }
                nic.inetAddresses().forEach(address -> {
                    if (address instanceof Inet4Address) {
                        nics.add(new NicInfo(nic.getName(), address.getHostAddress(), speed(nic.getName())));
                    }
                });
            }
        } catch (SocketException e) {
            throw new IllegalStateException("cannot list the node's network interfaces: " + e.getMessage(), e);
        }
        return nics;
    }

    /** Link speed from sysfs (megabits per second there), 0 when the kernel does not say. */
    private static long speed(String name) {
        try {
            long megabits = Long.parseLong(Files.readString(Path.of("/sys/class/net", name, "speed")).strip());
            return megabits > 0 ? megabits * BITS_PER_MEGABIT : 0;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
