package dev.weightlift.agent.engine.nativeprotocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.HostRange;
import dev.weightlift.agent.engine.TensorEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    private final FrameCodec codec = new FrameCodec(1024);

    private Frame roundTrip(Frame frame) throws ProtocolException {
        ByteBuffer bytes = codec.encode(frame);
        int[] lengths = codec.decodeHeader(bytes);
        byte[] json = new byte[lengths[0]];
        byte[] raw = new byte[lengths[1]];
        bytes.position(FrameCodec.HEADER_BYTES);
        bytes.get(json).get(raw);
        return codec.decodeBody(json, raw);
    }

    @Test
    void shareOfACudaIpcHandleCarriesTheRawBytes() throws ProtocolException {
        byte[] handle = new byte[64];
        handle[0] = 7;
        handle[63] = -1;
        Frame decoded = roundTrip(Messages.share(ShareHandle.cudaIpc("GPU-1", 4096, handle)));
        assertEquals("share", decoded.type());
        assertEquals("cuda-ipc", decoded.json().path("handle").path("kind").asText());
        assertEquals(4096, decoded.json().path("handle").path("size").asLong());
        assertArrayEquals(handle, decoded.raw());
    }

    @Test
    void bucketListsTensorsWithShiftedOffsetsAndOptionalChecksum() throws ProtocolException {
        Frame decoded = roundTrip(Messages.bucket(3, List.of(new TensorEntry("w", "BF16", new long[] {2, 3}, 512, 12)), 99L));
        assertEquals(3, decoded.json().path("id").asInt());
        assertEquals("[2,3]", decoded.json().path("tensors").get(0).path("shape").toString());
        assertEquals(512, decoded.json().path("tensors").get(0).path("offset").asLong());
        assertEquals(99, decoded.json().path("checksum").path("value").asLong());
        assertTrue(roundTrip(Messages.bucket(0, List.of(), null)).json().path("checksum").isMissingNode());
    }

    @Test
    void hostBuffersTravelWithTheShareAndTensorsNameTheirBuffer() throws ProtocolException {
        Frame share = roundTrip(Messages.share(null, List.of(new FileWindow("/dev/shm/a", 0, 8192),
                new FileWindow("/dev/shm/b", 4096, 1024)), List.of(new HostRange(1, 0, 512), new HostRange(0, 256, 64))));
        assertTrue(share.json().path("handle").isMissingNode(), "no shared buffer when every bucket is read in place");
        assertEquals("/dev/shm/b", share.json().path("host_buffers").get(1).path("path").asText());
        assertEquals(4096, share.json().path("host_buffers").get(1).path("offset").asLong());
        assertEquals("[[1,0,512],[0,256,64]]", share.json().path("read_ahead").toString());
        Frame both = roundTrip(Messages.share(ShareHandle.shmFile("GPU-1", 64, "/dev/shm/slot"),
                List.of(new FileWindow("/dev/shm/a", 0, 8192)), List.of()));
        assertEquals("shm", both.json().path("handle").path("kind").asText());
        assertEquals(1, both.json().path("host_buffers").size());
        assertTrue(roundTrip(Messages.share(ShareHandle.shmFile("GPU-1", 64, "/dev/shm/slot"))).json()
                .path("host_buffers").isMissingNode());

        Frame bucket = roundTrip(Messages.bucket(0, List.of(new TensorEntry("w", "F32", new long[] {2}, 64, 8, 1),
                new TensorEntry("v", "F32", new long[] {2}, 0, 8)), null));
        assertEquals(1, bucket.json().path("tensors").get(0).path("buffer").asInt());
        assertTrue(bucket.json().path("tensors").get(1).path("buffer").isMissingNode(), "in the shared buffer");
    }

    @Test
    void oversizedFramesAreRejectedFromTheHeaderAlone() {
        ByteBuffer header = ByteBuffer.allocate(8).putInt(0, 1025).putInt(4, 0);
        assertMessage(assertThrows(ProtocolException.class, () -> codec.decodeHeader(header)), "1025", "limit of 1024");
        ByteBuffer negative = ByteBuffer.allocate(8).putInt(0, -1).putInt(4, 0);
        assertMessage(assertThrows(ProtocolException.class, () -> codec.decodeHeader(negative)), "4294967295");
        ByteBuffer raw = ByteBuffer.allocate(8).putInt(0, 10).putInt(4, 5000);
        assertMessage(assertThrows(ProtocolException.class, () -> codec.decodeHeader(raw)), "raw length");
        ByteBuffer empty = ByteBuffer.allocate(8);
        assertMessage(assertThrows(ProtocolException.class, () -> codec.decodeHeader(empty)), "at least 2");
    }

    @Test
    void bodiesMustBeUtf8JsonObjectsWithAType() {
        assertMessage(assertThrows(ProtocolException.class, () -> codec.decodeBody(new byte[] {(byte) 0xff, 0x7b}, new byte[0])), "not UTF-8");
        assertMessage(assertThrows(ProtocolException.class, () -> codec.decodeBody(bytes("[1]"), new byte[0])), "not an object");
        assertMessage(assertThrows(ProtocolException.class, () -> codec.decodeBody(bytes("{\"id\":1}"), new byte[0])), "'type'");
        assertMessage(assertThrows(ProtocolException.class, () -> codec.decodeBody(bytes("{\"type\":"), new byte[0])), "not JSON");
    }

    @Test
    void helloFieldsAreChecked() throws ProtocolException {
        Frame good = new Frame(Messages.message("hello").put("protocol", 1).put("gpu_uuid", "GPU-a").put("pid", 42)
                .put("engine", "vllm").put("update", "u"));
        assertEquals("GPU-a", Messages.parseHello(good).gpuUuid());
        assertEquals(Set.of(), Messages.parseHello(good).features(), "a worker that declares nothing reads the shared buffer");
        Frame withFeatures = new Frame(good.json().deepCopy());
        withFeatures.json().putArray("features").add("host-buffers").add("something-newer");
        assertEquals(Set.of("host-buffers", "something-newer"), Messages.parseHello(withFeatures).features());
        Frame badFeatures = new Frame(good.json().deepCopy().put("features", "host-buffers"));
        assertMessage(assertThrows(ProtocolException.class, () -> Messages.parseHello(badFeatures)), "features");
        Frame noGpu = new Frame(Messages.message("hello").put("protocol", 1).put("pid", 42).put("update", "u"));
        assertMessage(assertThrows(ProtocolException.class, () -> Messages.parseHello(noGpu)), "gpu_uuid");
        Frame textPid = new Frame(Messages.message("hello").put("protocol", 1).put("gpu_uuid", "GPU-a").put("pid", "x")
                .put("update", "u"));
        assertMessage(assertThrows(ProtocolException.class, () -> Messages.parseHello(textPid)), "pid");
    }

    @Test
    void socketModesAreOctal() {
        assertEquals("rw-rw----", ChannelServerConfig.permissions("0660"));
        assertEquals("rwx------", ChannelServerConfig.permissions("700"));
        assertThrows(IllegalArgumentException.class, () -> ChannelServerConfig.permissions("0999"));
        assertThrows(IllegalArgumentException.class, () -> ChannelServerConfig.permissions("1777"));
    }

    static void assertMessage(Throwable error, String... parts) {
        for (String part : parts) {
            assertTrue(error.getMessage().contains(part), () -> "'" + error.getMessage() + "' lacks '" + part + "'");
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
