package dev.weightlift.agent.store.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Feeds the reader a fixed number of mutated safetensors files (fixed seed): every input must be accepted
 * with a consistent header or rejected with {@link SafetensorsException}; no other error, no hang, and no
 * allocation out of proportion to the input.
 */
class SafetensorsFuzzTest {

    private static final long SEED = 20261130L;
    private static final int INPUTS = 5000;
    private static final byte[] JSON_CHARS = "{}[]\",:0123456789-+.eE _abxyzFIUBOL".getBytes(StandardCharsets.US_ASCII);
    private static final long[] LENGTHS = {0, 1, 2, 7, 8, 9, 100_000_000, 100_000_001, 1L << 31, 1L << 40,
            Long.MAX_VALUE, Long.MIN_VALUE, -1};

    @Test
    void mutatedInputsFailOnlyWithTheReadersOwnError() {
        Random random = new Random(SEED);
        List<byte[]> seeds = List.of(seedFile(random, 3, false), seedFile(random, 12, true), seedFile(random, 1, true));
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int[] outcome = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            long thread = Thread.currentThread().getId();
            for (byte[] seed : seeds) {
                checkConsistent(SafetensorsReader.read("seed", seed), seed.length);
            }
            for (int i = 0; i < INPUTS; i++) {
                byte[] input = seeds.get(random.nextInt(seeds.size()));
                int rounds = 1 + random.nextInt(3);
                for (int r = 0; r < rounds; r++) {
                    input = mutate(input, random);
                }
                long before = threads.getThreadAllocatedBytes(thread);
                try {
                    SafetensorsHeader header = SafetensorsReader.read("fuzz-" + i, input);
                    checkConsistent(header, input.length);
                    outcome[0]++;
                } catch (SafetensorsException e) {
                    assertTrue(e.getMessage().startsWith("fuzz-" + i), e.getMessage());
                    outcome[1]++;
                } catch (RuntimeException | Error e) {
                    fail("input " + i + " (" + Base64.getEncoder().encodeToString(input) + ") raised " + e, e);
                }
                long allocated = threads.getThreadAllocatedBytes(thread) - before;
                assertTrue(allocated < 64L * input.length + (8 << 20),
                        "input " + i + " of " + input.length + " bytes allocated " + allocated + " bytes");
            }
        });
        assertEquals(INPUTS, outcome[0] + outcome[1]);
        assertTrue(outcome[0] > 0 && outcome[1] > INPUTS / 2, "accepted " + outcome[0] + ", rejected " + outcome[1]);
    }

    private static void checkConsistent(SafetensorsHeader header, long fileSize) {
        long covered = 0;
        for (TensorInfo tensor : header.tensors()) {
            assertEquals(covered, tensor.begin(), tensor.name());
            covered = tensor.end();
        }
        assertEquals(header.dataLength(), covered);
        assertEquals(fileSize, header.dataStart() + header.dataLength());
    }

    private static byte[] seedFile(Random random, int tensors, boolean metadata) {
        TestSafetensors writer = new TestSafetensors();
        if (metadata) {
            writer.metadata(Map.of("format", "pt", "step", "12"));
        }
        Dtype[] dtypes = Dtype.values();
        for (int i = 0; i < tensors; i++) {
            writer.add("model.layers." + i + ".weight", dtypes[random.nextInt(dtypes.length)],
                    new long[] {1 + random.nextInt(4), 2 * (1 + random.nextInt(4))}, random);
        }
        return writer.toBytes();
    }

    private static byte[] mutate(byte[] input, Random random) {
        byte[] out = input.clone();
        int headerEnd = (int) Math.min(out.length, 8 + Math.max(0, Math.min(headerLength(out), out.length)));
        switch (random.nextInt(8)) {
            case 0 -> {
                for (int k = 1 + random.nextInt(8); k > 0 && out.length > 0; k--) {
                    out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> {
                if (headerEnd > 8) {
                    out[8 + random.nextInt(headerEnd - 8)] = JSON_CHARS[random.nextInt(JSON_CHARS.length)];
                }
            }
            case 2 -> out = Arrays.copyOf(out, random.nextInt(out.length + 1));
            case 3 -> {
                int at = random.nextInt(out.length + 1);
                byte[] extra = new byte[1 + random.nextInt(16)];
                for (int k = 0; k < extra.length; k++) {
                    extra[k] = JSON_CHARS[random.nextInt(JSON_CHARS.length)];
                }
                out = splice(out, at, 0, extra);
            }
            case 4 -> {
                if (out.length > 0) {
                    int at = random.nextInt(out.length);
                    out = splice(out, at, Math.min(out.length - at, 1 + random.nextInt(16)), new byte[0]);
                }
            }
            case 5 -> {
                if (out.length >= 8) {
                    long length = random.nextBoolean() ? LENGTHS[random.nextInt(LENGTHS.length)]
                            : headerLength(out) + random.nextInt(33) - 16;
                    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
                }
            }
            case 6 -> out = replaceNumber(out, headerEnd, random);
            default -> {
                if (headerEnd > 9) {
                    int from = 8 + random.nextInt(headerEnd - 8);
                    int length = Math.min(headerEnd - from, 1 + random.nextInt(40));
                    int at = 8 + random.nextInt(headerEnd - 8);
                    out = splice(out, at, 0, Arrays.copyOfRange(out, from, from + length));
                }
            }
        }
        return out;
    }

    private static byte[] replaceNumber(byte[] input, int headerEnd, Random random) {
        int start = -1;
        for (int tries = 0; tries < 20 && headerEnd > 8; tries++) {
            int at = 8 + random.nextInt(headerEnd - 8);
            if (Character.isDigit(input[at])) {
                start = at;
                break;
            }
        }
        if (start < 0) {
            return input;
        }
        int end = start;
        while (end < headerEnd && Character.isDigit(input[end])) {
            end++;
        }
        String[] numbers = {"0", "1", "-1", "9223372036854775807", "9223372036854775808", "18446744073709551616",
                "4294967296", "1e3", "2.5", String.valueOf(random.nextInt(1 << 20))};
        return splice(input, start, end - start, numbers[random.nextInt(numbers.length)].getBytes(StandardCharsets.US_ASCII));
    }

    private static long headerLength(byte[] file) {
        return file.length < 8 ? 0 : ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    private static byte[] splice(byte[] input, int at, int remove, byte[] insert) {
        byte[] out = new byte[input.length - remove + insert.length];
        System.arraycopy(input, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(input, at + remove, out, at + insert.length, input.length - at - remove);
        return out;
    }
}
