"""Opening the agent's shared buffer as a flat uint8 torch tensor, zero-copy.

``shm``: a file (in /dev/shm on the host backend) mapped with mmap and wrapped by ``torch.frombuffer``.
``cuda-ipc``: ``cudaIpcOpenMemHandle`` through the CUDA runtime torch has already loaded (ctypes), wrapped by
``torch.as_tensor`` through ``__cuda_array_interface__``. Host buffers: the agent's host-store files, mapped
copy-on-write and read in place, with a thread that maps the pages the next buckets read ahead of the loads.
torch is imported here only.
"""

import ctypes
import ctypes.util
import errno
import gc
import logging
import mmap
import os
import threading

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


def _open_host_window(window):
    """One host-store file window ``{path, offset, size}``, mapped copy-on-write (the store stays as it is)."""
    import torch
    if not isinstance(window, dict):
        raise ProtocolError(f"host buffer {window!r} is not an object")
    path, offset, size = window.get("path"), window.get("offset", 0), window.get("size")
    if not isinstance(path, str) or not path or not isinstance(offset, int) or offset < 0 \
            or not isinstance(size, int) or size <= 0:
        raise ProtocolError(f"host buffer {window!r} needs a 'path', an 'offset' >= 0 and a positive 'size'")
    fd = os.open(path, os.O_RDONLY)
    try:
        actual = os.fstat(fd).st_size
        if actual < offset + size:
            raise ProtocolError(f"host-store file {path} has {actual} bytes, the window [{offset}, +{size}) passes "
                                f"its end")
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        # Private and writable: reads map the store's own pages; an engine that writes into a tensor it was given
        # gets a private copy of that page instead of changing the store or crashing on a read-only page.
        mapped = mmap.mmap(fd, offset - start + size, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE,
                           offset=start)
    finally:
        os.close(fd)
    whole = torch.frombuffer(mapped, dtype=torch.uint8)
    delta = offset - start
    return SharedBuffer(whole[delta:delta + size], size, mapped.close, f"host buffer {path}", alignment_base=delta,
                        address=whole.data_ptr() + delta)


MADV_POPULATE_READ = 22  # Linux 5.14+: maps the pages of a range readable, as a read of each would
_READ_AHEAD_CHUNK = 8 << 20


class HostBuffers:
    """The host-store files of one update (``share.host_buffers``), read in place.

    ``read_ahead`` lists ``[buffer, offset, length]`` ranges in the order the buckets read them; threads map
    their pages (``MADV_POPULATE_READ``), chunk after chunk in that order, ahead of the loads, so that the loads
    copy at memory speed instead of taking a page fault every few pages. Mapping pages is CPU work, not memory
    traffic: a quarter of the cores (at least one thread) keeps ahead of a copy. It is only a hint: a page not
    mapped yet is faulted in by the load.
    """

    def __init__(self, windows, read_ahead):
        if not isinstance(windows, list) or not windows:
            raise ProtocolError("'share' message: 'host_buffers' must be a non-empty list")
        if not isinstance(read_ahead, list):
            raise ProtocolError("'share' message: 'read_ahead' must be a list")
        self.buffers = []
        try:
            for window in windows:
                self.buffers.append(_open_host_window(window))
        except BaseException:
            self.close()
            raise
        self._ranges = [self._checked_range(r) for r in read_ahead]
        self._stop = threading.Event()
        self._chunks = self._read_ahead_chunks()
        self._chunks_lock = threading.Lock()
        self._threads = []
        if self._ranges:
            for i in range(max(1, min(4, (os.cpu_count() or 1) // 4))):
                thread = threading.Thread(target=self._read_ahead, name=f"weightlift-read-ahead-{i}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def _checked_range(self, r):
        if not isinstance(r, list) or len(r) != 3 or not all(isinstance(x, int) for x in r):
            raise ProtocolError(f"read-ahead range {r!r} is not [buffer, offset, length]")
        buffer, offset, length = r
        if not 0 <= buffer < len(self.buffers) or offset < 0 or length <= 0 or offset + length > self.buffers[buffer].size:
            raise ProtocolError(f"read-ahead range {r!r} lies outside the host buffers")
        return buffer, offset, length

    def buffer(self, entry):
        index = entry.get("buffer")
        if not isinstance(index, int) or not 0 <= index < len(self.buffers):
            raise ProtocolError(f"tensor '{entry.get('name')}' names host buffer {index!r}, the update shared "
                                f"{len(self.buffers)}")
        return self.buffers[index]

    def _read_ahead_chunks(self):
        """(address, length) of every page-aligned chunk of the read-ahead ranges, in reading order."""
        page = mmap.PAGESIZE
        for buffer, offset, length in self._ranges:
            address = self.buffers[buffer].address + offset
            end = address + length
            address -= address % page
            while address < end:
                chunk = min(_READ_AHEAD_CHUNK, end - address)
                yield address, chunk
                address += chunk

    def _read_ahead(self):
        libc = ctypes.CDLL(None, use_errno=True)  # ctypes drops the GIL during the call
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        libc.madvise.restype = ctypes.c_int
        while not self._stop.is_set():
            with self._chunks_lock:
                address, length = next(self._chunks, (None, 0))
            if address is None:
                return
            if libc.madvise(address, length, MADV_POPULATE_READ) != 0:
                code = ctypes.get_errno()
                log.debug("read-ahead stopped: madvise(MADV_POPULATE_READ) failed with %s",
                          errno.errorcode.get(code, code))
                self._stop.set()

    def close(self):
        """Stops the read-ahead and unmaps the files on a thread of its own: tearing down the page tables of a
        large mapping takes milliseconds per GiB, which the agent need not wait for (the store keeps the files)."""
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
            for thread in self._threads:
                thread.join(10)
        buffers, self.buffers = self.buffers, []
        if buffers:
            threading.Thread(target=_close_all, args=(buffers,), name="weightlift-unmap", daemon=True).start()


def _close_all(buffers):
    for buffer in buffers:
        try:
            buffer.close()
        except Exception:
            log.exception("unmapping %s failed", buffer.description)


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
