package dev.weightlift.operator.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.operator.plan.TensorMeta;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointInspectorTest {

    @TempDir
    Path dir;

    @Test
    void readsEveryTensorOfEveryFileWithItsFileAsBuffer() throws IOException {
        write(dir.resolve("b.safetensors"), "{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}");
        write(dir.resolve("a.safetensors"), "{\"y\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[16,20]}}");
        List<TensorMeta> tensors = CheckpointInspector.read(dir);
        assertEquals(List.of("y", "z", "x"), tensors.stream().map(TensorMeta::name).toList());
        assertEquals(new TensorMeta("x", "BF16", List.of(2L, 3L), 12, "b.safetensors", 0), tensors.get(2));
        assertEquals(16, tensors.get(1).offset());
    }

    @Test
    void aMissingDirectoryAndABadHeaderAreNamed() throws IOException {
        IOException missing = assertThrows(IOException.class, () -> CheckpointInspector.read(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
        write(dir.resolve("bad.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}");
        IOException bad = assertThrows(IOException.class, () -> CheckpointInspector.read(dir));
        assertTrue(bad.getMessage().contains("bad.safetensors") && bad.getMessage().contains("'w'"), bad.getMessage());
    }

    private static void write(Path file, String header) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(8 + json.length + 64).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(json.length).put(json);
        Files.write(file, buffer.array());
    }
}
