package dev.weightlift.agent.store.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightlift.agent.store.TensorLocation;
import dev.weightlift.agent.store.safetensors.Dtype;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorTableCodecTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A 100k-tensor MoE-style checkpoint (names like DeepSeek/Qwen MoE: 61 layers x 128 experts x 3
     * projections x weight + scale, plus attention and norms), laid out as the store lays it out.
     */
    static List<TensorLocation> moeCheckpoint(int wanted) {
        List<TensorLocation> tensors = new ArrayList<>();
        long capacity = 4L << 30;
        int buffer = 0;
        long offset = 0;
        String[] attention = {"self_attn.q_a_proj.weight", "self_attn.q_b_proj.weight", "self_attn.kv_a_proj_with_mqa.weight",
                "self_attn.kv_b_proj.weight", "self_attn.o_proj.weight", "input_layernorm.weight",
                "post_attention_layernorm.weight"};
        outer:
        for (int layer = 0; ; layer++) {
            List<Object[]> layerTensors = new ArrayList<>();
            for (String a : attention) {
                layerTensors.add(new Object[] {"model.layers." + layer + "." + a, Dtype.BF16, new long[] {7168, 1536}});
            }
            for (int expert = 0; expert < 128; expert++) {
                for (String proj : new String[] {"gate_proj", "up_proj", "down_proj"}) {
                    String base = "model.layers." + layer + ".mlp.experts." + expert + "." + proj;
                    long[] shape = proj.equals("down_proj") ? new long[] {7168, 2048} : new long[] {2048, 7168};
                    layerTensors.add(new Object[] {base + ".weight", Dtype.F8_E4M3, shape});
                    layerTensors.add(new Object[] {base + ".weight_scale_inv", Dtype.F32,
                            new long[] {shape[0] / 128, shape[1] / 128}});
                }
            }
            for (Object[] t : layerTensors) {
                long[] shape = (long[]) t[2];
                Dtype dtype = (Dtype) t[1];
                long nbytes = dtype.bytesFor(shape[0] * shape[1]);
                long slot = (nbytes + 255) & -256L;
                if (offset + slot > capacity) {
                    buffer++;
                    offset = 0;
                }
                tensors.add(new TensorLocation((String) t[0], dtype, shape, nbytes, buffer, offset));
                offset += slot;
                if (tensors.size() == wanted) {
                    break outer;
                }
            }
        }
        return tensors;
    }

    @Test
    void aTableRoundTrips() {
        List<TensorLocation> tensors = new ArrayList<>(moeCheckpoint(3000));
        tensors.add(new TensorLocation("\u00e9t\u00e9.\ud83d\ude00.w", Dtype.F4, new long[] {2, 3}, 3, 9, 17));
        tensors.add(new TensorLocation("\u00e9t\u00e9.\ud83d\ude01.w", Dtype.BOOL, new long[] {}, 1, 9, 5));
        assertEquals(tensors, TensorTableCodec.decode(TensorTableCodec.encode(tensors)));
        assertEquals(List.of(), TensorTableCodec.decode(TensorTableCodec.encode(List.of())));
    }

    @Test
    void aHundredThousandTensorsFitInWellUnderAMegabyteOfJson() throws Exception {
        List<TensorLocation> tensors = moeCheckpoint(100_000);
        CheckpointMetadata metadata = CheckpointMetadata.of("deepseek", "step-100", List.of(4L << 30, 4L << 30), tensors);
        byte[] json = JSON.writeValueAsBytes(metadata);
        byte[] plainJson = JSON.writeValueAsBytes(tensors);
        System.out.printf("tensor table: %d tensors, compact JSON %d bytes (%.1f B/tensor), plain JSON %d bytes%n",
                tensors.size(), json.length, json.length / 100_000.0, plainJson.length);
        assertTrue(json.length < 1_000_000, "compact metadata of 100k tensors takes " + json.length + " bytes");
        CheckpointMetadata back = JSON.readValue(new String(json, StandardCharsets.UTF_8), CheckpointMetadata.class);
        assertEquals(tensors, back.decodeTensors());
    }

    @Test
    void corruptTablesAreRejected() {
        String good = TensorTableCodec.encode(moeCheckpoint(10));
        assertThrows(IllegalArgumentException.class, () -> TensorTableCodec.decode(good.substring(0, good.length() / 2)));
        assertThrows(IllegalArgumentException.class, () -> TensorTableCodec.decode("AAAA"));
        CheckpointMetadata wrongCount = new CheckpointMetadata("c", "v", List.of(1L), 11, TensorTableCodec.FORMAT, good);
        assertThrows(IllegalArgumentException.class, wrongCount::decodeTensors);
    }
}
