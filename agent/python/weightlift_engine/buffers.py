"""Opening the agent's shared buffer as a flat uint8 torch tensor, zero-copy.

``shm``: a file (in /dev/shm on the host backend) mapped with mmap and wrapped by ``torch.frombuffer``.
``cuda-ipc``: ``cudaIpcOpenMemHandle`` through the CUDA runtime torch has already loaded (ctypes), wrapped by
``torch.as_tensor`` through ``__cuda_array_interface__``. The agent's host-store files, read in place, are
``host_buffers``'s. torch is imported only where tensors are made.
"""

import ctypes
import ctypes.util
import gc
import logging
import mmap
import os

from .protocol import ProtocolError

log = logging.getLogger("weightlift_engine")

DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "C64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8,
               "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E4M3FNUZ": 1, "F8_E5M2FNUZ": 1,
               "F8_E8M0": 1}
_TORCH_DTYPE_NAMES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "C64": "complex64",
                      "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U64": "uint64", "U32": "uint32",
                      "U16": "uint16", "U8": "uint8", "BOOL": "bool", "F8_E4M3": "float8_e4m3fn",
                      "F8_E5M2": "float8_e5m2", "F8_E4M3FNUZ": "float8_e4m3fnuz", "F8_E5M2FNUZ": "float8_e5m2fnuz",
                      "F8_E8M0": "float8_e8m0fnu"}


def torch_dtype(name):
    import torch
    attr = _TORCH_DTYPE_NAMES.get(name)
    dtype = getattr(torch, attr, None) if attr else None
    if dtype is None:
        raise ProtocolError(f"dtype '{name}' is not supported by this torch ({torch.__version__})")
    return dtype


class SharedBuffer:
    """The shared buffer of one update; ``tensor`` is a flat uint8 view of all of it."""

    def __init__(self, tensor, size, closer, description, alignment_base=0, address=None):
        self.tensor = tensor
        self.address = address
        self.size = size
        self._closer = closer
        self.description = description
        # Where byte 0 of ``tensor`` lies past an address aligned to every element size (a page): element
        # alignment is checked on alignment_base + offset.
        self.alignment_base = alignment_base

    def view(self, entry):
        """The tensor described by a bucket entry ``{name, dtype, shape, offset, nbytes}``, checked."""
        name = entry.get("name")
        dtype_name = entry.get("dtype")
        shape = entry.get("shape")
        offset = entry.get("offset")
        nbytes = entry.get("nbytes")
        if not isinstance(name, str) or not isinstance(shape, list) or not all(
                isinstance(d, int) and d >= 0 for d in shape) or not isinstance(offset, int) \
                or not isinstance(nbytes, int):
            raise ProtocolError(f"malformed tensor entry {entry!r}")
        if dtype_name not in DTYPE_SIZES:
            raise ProtocolError(f"tensor '{name}' has unknown dtype '{dtype_name}'")
        numel = 1
        for d in shape:
            numel *= d
        if numel * DTYPE_SIZES[dtype_name] != nbytes:
            raise ProtocolError(f"tensor '{name}': shape {shape} of {dtype_name} is {numel * DTYPE_SIZES[dtype_name]} "
                                f"bytes, entry says {nbytes}")
        if offset < 0 or offset + nbytes > self.size or (self.alignment_base + offset) % DTYPE_SIZES[dtype_name]:
            raise ProtocolError(f"tensor '{name}' at offset {offset} (+{nbytes} bytes) does not lie aligned inside "
                                f"the {self.size}-byte {self.description}")
        return self.tensor[offset:offset + nbytes].view(torch_dtype(dtype_name)).view(shape)

    def raw(self, entry):
        """The bytes of a checked bucket entry as a flat uint8 tensor."""
        self.view(entry)
        return self.tensor[entry["offset"]:entry["offset"] + entry["nbytes"]]

    def synchronize(self):
        if self.tensor.is_cuda:
            import torch
            torch.cuda.synchronize(self.tensor.device)

    def close(self):
        """Drops the buffer. Views still referenced (in a reference cycle, say) are collected first."""
        self.synchronize()
        self.tensor = None
        try:
            self._closer()
        except BufferError:
            gc.collect()
            try:
                self._closer()
            except BufferError:
                log.warning("shared buffer %s is still referenced; it is unmapped when the last view goes",
                            self.description)


def open_buffer(handle, raw, device=None):
    """Opens the buffer a ``share`` message describes (``handle`` is its ``handle`` object)."""
    if not isinstance(handle, dict):
        raise ProtocolError("'share' message needs a 'handle' object")
    kind = handle.get("kind")
    size = handle.get("size")
    if not isinstance(size, int) or size <= 0:
        raise ProtocolError(f"shared buffer handle needs a positive integer 'size', got {size!r}")
    if kind == "shm":
        path = handle.get("path")
        if not isinstance(path, str) or not path:
            raise ProtocolError("shm handle needs a 'path'")
        return _open_shm(path, size)
    if kind == "cuda-ipc":
        if len(raw) != 64:
            raise ProtocolError(f"cuda-ipc handle needs 64 raw bytes, got {len(raw)}")
        return _open_cuda_ipc(raw, size, handle.get("device_uuid"), device)
    raise ProtocolError(f"unknown shared buffer kind {kind!r}")


def _open_shm(path, size):
    import torch
    fd = os.open(path, os.O_RDWR)
    try:
        actual = os.fstat(fd).st_size
        if actual < size:
            raise ProtocolError(f"shared-memory file {path} has {actual} bytes, handle says {size}")
        # MAP_POPULATE maps the (already resident) pages in one call instead of one fault per page.
        flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
        mapped = mmap.mmap(fd, size, flags, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    tensor = torch.frombuffer(mapped, dtype=torch.uint8)

    def close():
        mapped.close()

    return SharedBuffer(tensor, size, close, f"shm[{path}]")


class _IpcHandle(ctypes.Structure):
    _fields_ = [("reserved", ctypes.c_char * 64)]


class _CudaArray:
    """Presents a raw device pointer to torch through ``__cuda_array_interface__``."""

    def __init__(self, pointer, size):
        self.__cuda_array_interface__ = {"shape": (size,), "typestr": "|u1", "data": (pointer, False),
                                         "version": 2, "strides": None}


def _cudart():
    """The CUDA runtime library torch loaded into this process (found in /proc/self/maps)."""
    candidates = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            base = os.path.basename(path)
            if base.startswith("libcudart.so") and path not in candidates:
                candidates.insert(0, path)
            elif base.startswith("libtorch_cuda") and path not in candidates:
                candidates.append(path)
    found = ctypes.util.find_library("cudart")
    if found:
        candidates.append(found)
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
            lib.cudaIpcOpenMemHandle
            return lib
        except (OSError, AttributeError):
            continue
    raise RuntimeError("cannot find the CUDA runtime torch loaded (no libcudart in /proc/self/maps)")


def current_gpu_uuid():
    """NVML-style UUID of torch's current CUDA device."""
    import torch
    uuid = getattr(torch.cuda.get_device_properties(torch.cuda.current_device()), "uuid", None)
    if uuid is None:
        raise RuntimeError(f"torch {torch.__version__} does not report GPU UUIDs; pass gpu_uuid explicitly")
    return "GPU-" + str(uuid)


def device_for_uuid(device_uuid):
    """The local torch device whose NVML UUID is ``device_uuid`` (visible-device indices differ per process)."""
    import torch
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        uuid = getattr(props, "uuid", None)
        if uuid is not None and "GPU-" + str(uuid) == device_uuid:
            return torch.device("cuda", index)
    if torch.cuda.device_count() == 1:
        return torch.device("cuda", 0)
    raise RuntimeError(f"no visible GPU has UUID {device_uuid}")


def _open_cuda_ipc(raw, size, device_uuid, device):
    import torch
    torch.cuda.init()
    if device is None:
        device = device_for_uuid(device_uuid)
    lib = _cudart()
    lib.cudaIpcOpenMemHandle.argtypes = [ctypes.POINTER(ctypes.c_void_p), _IpcHandle, ctypes.c_uint]
    lib.cudaIpcOpenMemHandle.restype = ctypes.c_int
    lib.cudaIpcCloseMemHandle.argtypes = [ctypes.c_void_p]
    lib.cudaIpcCloseMemHandle.restype = ctypes.c_int
    handle = _IpcHandle()
    ctypes.memmove(ctypes.byref(handle), bytes(raw), 64)
    pointer = ctypes.c_void_p()
    lazy_enable_peer_access = 1
    with torch.cuda.device(device):
        status = lib.cudaIpcOpenMemHandle(ctypes.byref(pointer), handle, lazy_enable_peer_access)
    if status != 0:
        raise RuntimeError(f"cudaIpcOpenMemHandle failed with CUDA error {status} on {device} ({device_uuid})")
    tensor = torch.as_tensor(_CudaArray(pointer.value, size), device=device)

    def close():
        with torch.cuda.device(device):
            lib.cudaIpcCloseMemHandle(pointer)

    return SharedBuffer(tensor, size, close, f"cuda-ipc[{device_uuid}]")
