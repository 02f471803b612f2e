package dev.weightlift.agent.engine.checkpointengine;

import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.TensorEntry;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The pickled messages checkpoint-engine v0.4's parameter server sends its workers
 * ({@code checkpoint_engine.worker.update_weights_from_ipc}), byte for byte what the worker's
 * {@code socket.recv_pyobj()} expects. See {@code agent/docs/checkpoint-engine-protocol.md}.
 */
public final class CheckpointEngineMessages {

    /**
     * Names a POSIX shared-memory object that never exists. Torch's receiver only opens the ref-counter
     * when it drops the storage, with {@code ALLOCATOR_MAPPED_NOCREATE}, and ignores the error when the
     * object is missing (the case of a producer that has already exited); the agent keeps the buffer alive
     * by protocol (release before free) instead of by that counter.
     */
    static final String REF_COUNTER_NAME = "/weightlift_no_refcounter";

    private static final int CUDA_IPC_HANDLE_SIZE = 64;

    private CheckpointEngineMessages() {
    }

    /**
     * {@code (torch.multiprocessing.reductions.rebuild_cuda_tensor, args)} for a flat {@code uint8} tensor over
     * the whole shared buffer, exactly the tuple torch's {@code reduce_tensor} makes for such a tensor.
     * The worker replaces {@code args[6]} (device) with its own device index before calling it.
     */
    public static byte[] sharedBuffer(ShareHandle handle, int deviceIndex) {
        if (handle.type() != ShareHandle.Type.CUDA_IPC) {
            throw new IllegalArgumentException("the checkpoint-engine protocol shares CUDA memory only, got " + handle);
        }
        long size = handle.size();
        PickleWriter w = new PickleWriter();
        w.tuple(2, () -> {
            w.global("torch.multiprocessing.reductions", "rebuild_cuda_tensor");
            w.tuple(15, () -> {
                w.global("torch", "Tensor");
                torchSize(w, new long[] {size});
                w.tuple(1, () -> w.integer(1));
                w.integer(0);
                w.global("torch.storage", "TypedStorage");
                w.global("torch", "uint8");
                w.integer(deviceIndex);
                w.bytes(handle.ipcHandle());
                w.integer(size);
                w.integer(0);
                w.bool(false);
                w.bytes(REF_COUNTER_NAME.getBytes(StandardCharsets.US_ASCII));
                w.integer(0);
                w.bytes(new byte[CUDA_IPC_HANDLE_SIZE]);
                w.bool(false);
            });
        });
        return w.toByteArray();
    }

    /** The bucket's tensors: {@code [{"name", "dtype": torch.<dtype>, "shape": torch.Size([...]), "offset"}]}. */
    public static byte[] bucket(List<TensorEntry> tensors) {
        PickleWriter w = new PickleWriter();
        w.list(tensors, t -> {
            String dtype = TorchDtypes.torchName(t.dtype(), t.name());
            w.dict(4, () -> {
                w.string("name").string(t.name());
                w.string("dtype").global("torch", dtype);
                w.string("shape");
                torchSize(w, t.shape());
                w.string("offset").integer(t.offset());
            });
        });
        return w.toByteArray();
    }

    /** {@code None}: the first one means "release the buffer", the second "run the post-hook and return". */
    public static byte[] none() {
        return new PickleWriter().none().toByteArray();
    }

    /** {@code RuntimeError(message)}: the worker raises it, so the engine's RPC fails with this message. */
    public static byte[] runtimeError(String message) {
        PickleWriter w = new PickleWriter();
        w.global("builtins", "RuntimeError");
        w.tuple(1, () -> w.string(message));
        w.reduce();
        return w.toByteArray();
    }

    /** {@code torch.Size(dims)}: torch.Size pickles by REDUCE of the class on a one-tuple holding a plain tuple. */
    private static void torchSize(PickleWriter w, long[] dims) {
        w.global("torch", "Size");
        w.tuple(1, () -> w.tuple(dims.length, () -> {
            for (long d : dims) {
                w.integer(d);
            }
        }));
        w.reduce();
    }
}
