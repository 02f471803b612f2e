"""The agent's host-store files, read in place (protocol §3.1, feature ``host-buffers``).

Each window is mapped copy-on-write (the file opened read-only: the store cannot be changed through it) and
kept mapped between updates while its file exists: the agent reuses its files for the next versions of a
model, so the next update reads through mappings whose page tables are already there, instead of spending
about 0.1 s per GiB mapping pages. A mapping is dropped when its file is deleted (checked at every update
and once a second by a janitor thread, so the memory goes back promptly) and after an update in which the
engine wrote into a tensor it was given (its private copies of those pages would hide later versions).
"""

import atexit
import ctypes
import errno
import logging
import mmap
import os
import threading

from .buffers import SharedBuffer
from .protocol import ProtocolError

log = logging.getLogger("weightlift_engine")

MADV_POPULATE_READ = 22  # Linux 5.14+: maps the pages of a range readable, as a read of each would
_READ_AHEAD_CHUNK = 8 << 20
_JANITOR_INTERVAL_S = 1.0
_CHECK_WAIT_S = 30.0


def _checked_window(window):
    if not isinstance(window, dict):
        raise ProtocolError(f"host buffer {window!r} is not an object")
    path, offset, size = window.get("path"), window.get("offset", 0), window.get("size")
    if not isinstance(path, str) or not path or not isinstance(offset, int) or offset < 0 \
            or not isinstance(size, int) or size <= 0:
        raise ProtocolError(f"host buffer {window!r} needs a 'path', an 'offset' >= 0 and a positive 'size'")
    return path, offset, size


class _Mapping:
    """One window of a host-store file, mapped copy-on-write; the file stays open to notice its deletion."""

    def __init__(self, path, offset, size):
        import torch
        fd = os.open(path, os.O_RDONLY)
        try:
            stat = os.fstat(fd)
            if stat.st_size < offset + size:
                raise ProtocolError(f"host-store file {path} has {stat.st_size} bytes, the window [{offset}, +{size}) "
                                    f"passes its end")
            start = offset - offset % mmap.ALLOCATIONGRANULARITY
            # Private and writable: reads map the store's own pages; an engine that writes into a tensor it was
            # given gets a private copy of that page instead of changing the store or crashing on a read-only page.
            self._mapped = mmap.mmap(fd, offset - start + size, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE,
                                     offset=start)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self.identity = (stat.st_dev, stat.st_ino)
        self.size = size
        self.delta = offset - start
        whole = torch.frombuffer(self._mapped, dtype=torch.uint8)
        self.start = whole.data_ptr()
        self.address = self.start + self.delta
        self._window = SharedBuffer(whole[self.delta:self.delta + size], size, self._mapped.close,
                                    f"host buffer {path}", alignment_base=self.delta, address=self.address)
        self.users = 0
        self.checked = threading.Event()
        self.checked.set()
        self.warm = False  # its pages are mapped (it served an update before)

    def buffer(self):
        """A view of the window for one update; closing it leaves the mapping to the cache."""
        window = self._window
        return SharedBuffer(window.tensor, self.size, lambda: None, window.description,
                            alignment_base=self.delta, address=self.address)

    def deleted(self):
        try:
            return os.fstat(self._fd).st_nlink == 0
        except OSError:
            return True

    def close(self):
        self._window.close()
        os.close(self._fd)


# Per value of a pagemap entry's top byte: 1 for a present page (bit 63) that is not the file's (bit 61 clear:
# a private, anonymous copy the engine wrote).
_WRITTEN_PAGE = bytes(1 if value & 0x80 and not value & 0x20 else 0 for value in range(256))


def _written(mapping):
    """Whether the engine wrote into the mapping, from /proc/self/pagemap (standard library only: this runs on a
    thread of its own, where torch must not be called as the interpreter exits). About 13 ms per GiB."""
    page = mmap.PAGESIZE
    try:
        with open("/proc/self/pagemap", "rb", buffering=0) as pagemap:
            pagemap.seek(mapping.start // page * 8)
            entries = pagemap.read((mapping.delta + mapping.size + page - 1) // page * 8)
    except OSError:
        return True  # cannot tell: do not keep it
    return 1 in entries[7::8].translate(_WRITTEN_PAGE)


class _Cache:
    """Every kept mapping of this process, by window. After each update a thread checks the idle ones (the
    agent need not wait for it; the next update waits, at most ``_CHECK_WAIT_S``), and a daemon thread drops the
    idle ones whose file is gone."""

    def __init__(self):
        self._lock = threading.Lock()
        self._mappings = {}
        self._unchecked = []
        self._janitor = None
        self._stopping = threading.Event()

    def acquire(self, window):
        path, offset, size = _checked_window(window)
        stat = os.stat(path)
        identity = (stat.st_dev, stat.st_ino)
        key = (path, offset, size)
        self.check_released()
        with self._lock:
            kept = self._mappings.get(key)
        if kept is not None:
            kept.checked.wait(_CHECK_WAIT_S)
        with self._lock:
            kept = self._mappings.get(key)
            usable = kept is not None and kept.identity == identity and kept.checked.is_set()
            if kept is not None and not usable and kept.users == 0 and kept.checked.is_set():
                self._forget({kept})
                kept.close()
                kept = None
            if usable:
                mapping = kept
            else:
                mapping = _Mapping(path, offset, size)
                if kept is None:
                    self._mappings[key] = mapping
            mapping.users += 1
            if self._janitor is None:
                self._janitor = threading.Thread(target=self._sweep, name="weightlift-host-buffers", daemon=True)
                self._janitor.start()
            return mapping

    def release(self, mappings):
        """Ends one update's use of ``mappings``; the idle ones wait for :meth:`check_released`."""
        with self._lock:
            for m in mappings:
                m.users -= 1
                m.warm = True
            for m in set(mappings):
                if m.users == 0 and m.checked.is_set():
                    m.checked.clear()
                    self._unchecked.append(m)

    def check_released(self):
        """Checks the released mappings on a thread of their own. Called once the update is over (so that the
        check does not compete with the update's last steps for the GIL), and before any mapping is reused."""
        with self._lock:
            idle, self._unchecked = self._unchecked, []
        if idle:
            # Not a daemon: the interpreter waits for it (milliseconds) rather than stopping it halfway.
            threading.Thread(target=self._check, args=(idle,), name="weightlift-host-buffers-check").start()

    def _check(self, idle):
        """Drops the mappings the engine wrote into (their private pages would hide later versions), whose file
        is gone, or that are not the cache's (a replaced file's)."""
        drop = set()
        for m in idle:
            if m.deleted() or _written(m):
                drop.add(m)
        with self._lock:
            drop |= {m for m in idle if m not in self._mappings.values()}
            self._forget(drop)
            for m in idle:
                m.checked.set()
        for m in drop:
            m.close()

    def _forget(self, drop):
        for key in [k for k, m in self._mappings.items() if m in drop]:
            del self._mappings[key]

    def stop(self):
        """Stops the janitor (at interpreter exit, before daemon threads are frozen mid-call)."""
        self._stopping.set()
        janitor = self._janitor
        if janitor is not None:
            janitor.join(5)

    def _sweep(self):
        while not self._stopping.wait(_JANITOR_INTERVAL_S):
            with self._lock:
                gone = {m for m in self._mappings.values() if m.users == 0 and m.checked.is_set() and m.deleted()}
                self._forget(gone)
            for m in gone:
                m.close()


CACHE = _Cache()
atexit.register(CACHE.stop)


class HostBuffers:
    """The host-store files of one update (``share.host_buffers``), read in place.

    ``read_ahead`` lists ``[buffer, offset, length]`` ranges in the order the buckets read them; threads map
    their pages (``MADV_POPULATE_READ``), chunk after chunk in that order, ahead of the loads, so that the loads
    copy at memory speed instead of taking a page fault every few pages (pages of a mapping kept from an
    earlier update are mapped already and are not read ahead). Mapping pages is CPU work,
    not memory traffic: a quarter of the cores (at least one thread) keeps ahead of a copy. It is only a hint: a
    page not mapped yet is faulted in by the load.
    """

    def __init__(self, windows, read_ahead):
        if not isinstance(windows, list) or not windows:
            raise ProtocolError("'share' message: 'host_buffers' must be a non-empty list")
        if not isinstance(read_ahead, list):
            raise ProtocolError("'share' message: 'read_ahead' must be a list")
        self._mappings = []
        try:
            for window in windows:
                self._mappings.append(CACHE.acquire(window))
        except BaseException:
            self.close()
            raise
        self.buffers = [m.buffer() for m in self._mappings]
        # Pages of a mapping kept from an earlier update are mapped already: reading ahead there would only
        # take CPU from the loads.
        self._ranges = [r for r in map(self._checked_range, read_ahead) if not self._mappings[r[0]].warm]
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
        """Stops the read-ahead and gives the mappings back to the cache (the views must be gone)."""
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
            for thread in self._threads:
                thread.join(10)
        for buffer in getattr(self, "buffers", []):
            buffer.close()
        self.buffers = []
        mappings, self._mappings = self._mappings, []
        if mappings:
            CACHE.release(mappings)
