package dev.weightlift.agent.engine.checkpointengine;

import java.util.Map;

/**
 * The torch dtype for each safetensors dtype name. Torch pickles a dtype as the module global
 * {@code torch.<name>} (its {@code __reduce__} returns the attribute name), so the name is all the wire needs.
 * A name the engine's torch does not have fails the unpickling on the engine side with
 * {@code AttributeError: Can't get attribute 'float8_e8m0fnu' on <module 'torch'>}.
 */
final class TorchDtypes {

    private static final Map<String, String> BY_SAFETENSORS_NAME = Map.ofEntries(
            Map.entry("BOOL", "bool"),
            Map.entry("U8", "uint8"),
            Map.entry("I8", "int8"),
            Map.entry("I16", "int16"),
            Map.entry("U16", "uint16"),
            Map.entry("I32", "int32"),
            Map.entry("U32", "uint32"),
            Map.entry("I64", "int64"),
            Map.entry("U64", "uint64"),
            Map.entry("F16", "float16"),
            Map.entry("BF16", "bfloat16"),
            Map.entry("F32", "float32"),
            Map.entry("F64", "float64"),
            Map.entry("C64", "complex64"),
            Map.entry("F8_E4M3", "float8_e4m3fn"),
            Map.entry("F8_E5M2", "float8_e5m2"),
            Map.entry("F8_E8M0", "float8_e8m0fnu"));

    private TorchDtypes() {
    }

    /** The attribute of the {@code torch} module, e.g. {@code bfloat16} for {@code BF16}. */
    static String torchName(String safetensorsDtype, String tensorName) {
        String name = BY_SAFETENSORS_NAME.get(safetensorsDtype);
        if (name == null) {
            throw new IllegalArgumentException("tensor " + tensorName + ": dtype " + safetensorsDtype
                    + " has no torch equivalent the checkpoint-engine protocol can name");
        }
        return name;
    }
}
