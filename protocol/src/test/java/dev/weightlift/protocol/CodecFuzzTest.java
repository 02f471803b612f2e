package dev.weightlift.protocol;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Mutated frames either decode or fail with a ProtocolException: nothing else escapes the codec. */
class CodecFuzzTest {

    private static final long SEED = 0x5eed_1e55L;
    private static final int ROUNDS = 20_000;

    @Test
    void mutatedFramesNeverEscapeAsAnythingButProtocolException() {
        MessageCodec codec = new MessageCodec();
        List<byte[]> frames = Samples.all().stream().map(m -> codec.encode(new Envelope("r-1", m))).toList();
        Random random = new Random(SEED);
        int rejected = 0;
        for (int round = 0; round < ROUNDS; round++) {
            byte[] frame = mutate(frames.get(random.nextInt(frames.size())), random);
            try {
                assertNotNull(codec.decode(frame).message());
            } catch (ProtocolException e) {
                assertNotNull(e.getMessage());
                rejected++;
            } catch (RuntimeException | StackOverflowError e) {
                fail("round " + round + " (seed " + SEED + "): " + e + " on " + new String(frame), e);
            }
        }
        if (rejected < ROUNDS / 10) {
            fail("only " + rejected + " of " + ROUNDS + " mutated frames were rejected: the mutations are too weak");
        }
    }

    private static byte[] mutate(byte[] frame, Random random) {
        byte[] out = frame.clone();
        switch (random.nextInt(4)) {
            case 0 -> out[random.nextInt(out.length)] = (byte) random.nextInt(256);
            case 1 -> {
                int at = random.nextInt(out.length);
                byte[] cut = new byte[at];
                System.arraycopy(out, 0, cut, 0, at);
                out = cut;
            }
            case 2 -> {
                int a = random.nextInt(out.length);
                int b = random.nextInt(out.length);
                byte t = out[a];
                out[a] = out[b];
                out[b] = t;
            }
            default -> {
                byte[] structural = "{}[]\":,0-9enutlfa \\".getBytes();
                for (int i = 0; i < 1 + random.nextInt(3); i++) {
                    out[random.nextInt(out.length)] = structural[random.nextInt(structural.length)];
                }
            }
        }
        return out;
    }
}
