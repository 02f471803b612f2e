package dev.weightlift.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MessageCodecTest {

    private final MessageCodec codec = new MessageCodec(4096);

    @Test
    void everyMessageTypeRoundTrips() throws ProtocolException {
        for (Message message : Samples.all()) {
            Envelope sent = new Envelope("r-42", message);
            Envelope received = codec.decode(codec.encode(sent));
            assertEquals(sent, received, () -> "round trip of " + sent.type());
        }
    }

    @Test
    void samplesCoverEveryType() {
        Set<String> sampled = Samples.all().stream().map(m -> MessageCodec.typeName(m.getClass()))
                .collect(Collectors.toSet());
        assertEquals(MessageCodec.typeNames(), sampled);
    }

    @Test
    void wireFormatCarriesVersionTypeAndId() {
        String json = new String(codec.encode(new Envelope("r-1", new Ack())), StandardCharsets.UTF_8);
        assertEquals("{\"v\":1,\"type\":\"Ack\",\"id\":\"r-1\",\"body\":{}}", json);
    }

    @Test
    void rejectsAnotherProtocolVersion() {
        assertRejected("{\"v\":2,\"type\":\"Ack\",\"id\":\"r-1\",\"body\":{}}", "protocol version 2 is not supported");
        assertRejected("{\"type\":\"Ack\",\"id\":\"r-1\",\"body\":{}}", "protocol version 'v'");
    }

    @Test
    void rejectsUnknownType() {
        assertRejected("{\"v\":1,\"type\":\"Explode\",\"id\":\"r-1\",\"body\":{}}", "unknown message type 'Explode'");
    }

    @Test
    void rejectsMissingAndUnknownFields() {
        assertRejected("{\"v\":1,\"type\":\"ReleaseCheckpoint\",\"id\":\"r-1\",\"body\":{\"name\":\"llama\"}}",
                "malformed ReleaseCheckpoint r-1");
        assertRejected("{\"v\":1,\"type\":\"ReleaseCheckpoint\",\"id\":\"r-1\",\"body\":{\"name\":\"llama\","
                + "\"version\":\"1\",\"extra\":true}}", "extra");
        assertRejected("{\"v\":1,\"type\":\"ReleaseCheckpoint\",\"id\":\"r-1\",\"body\":{\"name\":null,"
                + "\"version\":\"1\"}}", "name");
        assertRejected("{\"v\":1,\"type\":\"Ack\",\"id\":\"r-1\",\"body\":{},\"more\":1}", "unknown envelope field 'more'");
        assertRejected("{\"v\":1,\"type\":\"Ack\",\"body\":{}}", "'id'");
        assertRejected("{\"v\":1,\"type\":\"Ack\",\"id\":\"r-1\"}", "Ack r-1 has no 'body' object");
    }

    @Test
    void rejectsWrongFieldTypes() {
        assertRejected("{\"v\":1,\"type\":\"Registered\",\"id\":\"r-1\",\"body\":{\"hub\":\"h\","
                + "\"heartbeatMillis\":\"soon\"}}", "malformed Registered r-1");
        assertRejected("{\"v\":1,\"type\":\"Registered\",\"id\":\"r-1\",\"body\":{\"hub\":\"h\","
                + "\"heartbeatMillis\":0}}", "heartbeatMillis must be positive");
    }

    @Test
    void rejectsNonJsonAndOversizedFrames() {
        assertRejected("not json", "not JSON");
        assertRejected("[1,2]", "not a JSON object");
        assertRejected("{\"v\":1,\"type\":\"Ack\",\"id\":\"r-1\",\"body\":{}} trailing", "not JSON");
        byte[] big = new byte[4097];
        ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(big));
        assertTrue(e.getMessage().contains("4097 bytes is over the limit of 4096"), e.getMessage());
    }

    @Test
    void refusesToEncodeOverTheLimit() {
        Failure huge = new Failure("x".repeat(5000));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> codec.encode(new Envelope("r-9", huge)));
        assertTrue(e.getMessage().contains("Failure r-9"), e.getMessage());
    }

    private void assertRejected(String frame, String expected) {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> codec.decode(frame.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' should contain '" + expected + "'");
    }
}
