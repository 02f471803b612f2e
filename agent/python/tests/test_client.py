"""update_from_agent against a small in-test agent speaking the protocol over a real Unix socket and shm file."""

import os
import socket
import tempfile
import threading
import time
import unittest
import zlib

import torch

from weightlift_engine import AgentError, UpdateAborted, host_buffers, update_from_agent
from weightlift_engine.protocol import Connection

GPU = "GPU-test-0"


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


class FakeAgent:
    """Plays the agent's side of one update; ``script(conn)`` drives it after welcome."""

    def __init__(self, directory, script, welcome=True):
        self.path = os.path.join(directory, "weightlift.sock")
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(1)
        self.script = script
        self.welcome = welcome
        self.hello = None
        self.replies = []
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        sock, _ = self.server.accept()
        conn = Connection(sock, "worker")
        try:
            self.hello, _ = conn.recv(5)
            if not self.welcome:
                conn.send({"type": "error", "message": "no update expects this GPU"})
                return
            conn.send({"type": "welcome", "protocol": 1, "update": self.hello["update"]})
            self.script(self, conn)
        except Exception as e:
            self.error = e
        finally:
            conn.close()

    def ask(self, conn, message, raw=b""):
        conn.send(message, raw)
        reply, _ = conn.recv(5)
        self.replies.append(reply)
        return reply

    def join(self):
        self.thread.join(10)
        self.server.close()


class ClientTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.shm = os.path.join(self.dir.name, "buffer")
        self.size = 2 * 4096
        with open(self.shm, "wb") as f:
            f.truncate(self.size)
        self.endpoint = "unix://" + os.path.join(self.dir.name, "weightlift.sock")

    def tearDown(self):
        self.dir.cleanup()

    def write(self, offset, tensor):
        data = tensor.contiguous().view(-1).view(torch.uint8).numpy().tobytes()
        with open(self.shm, "r+b") as f:
            f.seek(offset)
            f.write(data)
        return data

    def share(self):
        return {"type": "share", "handle": {"kind": "shm", "path": self.shm, "size": self.size}}

    def test_full_update_loads_every_tensor_and_runs_the_post_hook(self):
        a = torch.arange(12, dtype=torch.float32).view(3, 4)
        b = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
        crc = zlib.crc32(self.write(0, a))
        self.write(4096, b)

        def script(agent, conn):
            agent.ask(conn, self.share())
            agent.ask(conn, {"type": "bucket", "id": 0, "checksum": {"algorithm": "crc32", "value": crc},
                             "tensors": [{"name": "a", "dtype": "F32", "shape": [3, 4], "offset": 0, "nbytes": 48}]})
            agent.ask(conn, {"type": "bucket", "id": 1,
                             "tensors": [{"name": "b", "dtype": "BF16", "shape": [2], "offset": 4096, "nbytes": 4}]})
            agent.ask(conn, {"type": "release"})
            agent.ask(conn, {"type": "finish", "version": "v7"})

        agent = FakeAgent(self.dir.name, script)
        loaded = {}
        hooks = []
        result = update_from_agent(self.endpoint,
                                   lambda weights: loaded.update({n: t.clone() for n, t in weights}),
                                   lambda: hooks.append(True), update="u1", gpu_uuid=GPU, timeout_s=5)
        agent.join()
        self.assertIsNone(agent.error)
        self.assertEqual(agent.hello["gpu_uuid"], GPU)
        self.assertEqual(agent.hello["update"], "u1")
        self.assertEqual([r["type"] for r in agent.replies], ["ack", "ack", "ack", "ack", "done"])
        self.assertEqual(agent.replies[1]["id"], 0)
        self.assertEqual(agent.replies[4]["version"], "v7")
        self.assertTrue(torch.equal(loaded["a"], a))
        self.assertTrue(torch.equal(loaded["b"], b))
        self.assertEqual(hooks, [True])
        self.assertEqual(result, {"gpu_uuid": GPU, "version": "v7", "buckets": 2, "bytes": 52})

    def assert_refused(self, script, expected):
        """The worker fails on what ``script`` sends, and its last answer is an error containing ``expected``."""
        agent = FakeAgent(self.dir.name, script)
        with self.assertRaises(Exception):
            update_from_agent(self.endpoint, lambda w: None, update="u1", gpu_uuid=GPU, timeout_s=5)
        agent.join()
        self.assertEqual(agent.replies[-1]["type"], "error")
        self.assertIn(expected, agent.replies[-1]["message"])

    def host_file(self, name, size, pieces):
        """A host-store file of ``size`` bytes with ``pieces`` ({offset: tensor}) written into it."""
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as f:
            f.truncate(size)
            for offset, tensor in pieces.items():
                f.seek(offset)
                f.write(tensor.contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        return path

    def test_tensors_are_read_in_place_from_host_buffers_next_to_the_shared_buffer(self):
        a = torch.arange(6, dtype=torch.float32).view(2, 3)
        b = torch.tensor([7, -8], dtype=torch.int64)
        c = torch.tensor([0.25, 0.5], dtype=torch.float16)
        first = self.host_file("store-1", 3 * 4096, {4096: a})
        # A window that starts past the file's first page, at an offset no page size divides.
        second = self.host_file("store-2", 4 * 4096, {4096 + 512 + 24: b})
        self.write(0, c)
        crc = zlib.crc32(b.numpy().tobytes(), zlib.crc32(a.numpy().tobytes()))
        store_before = read_file(first)

        def script(agent, conn):
            agent.ask(conn, {"type": "share", "handle": self.share()["handle"],
                             "host_buffers": [{"path": first, "offset": 0, "size": 3 * 4096},
                                              {"path": second, "offset": 4096 + 512, "size": 2048}],
                             "read_ahead": [[0, 4096, 24], [1, 24, 16]]})
            agent.ask(conn, {"type": "bucket", "id": 0, "checksum": {"algorithm": "crc32", "value": crc}, "tensors": [
                {"name": "a", "dtype": "F32", "shape": [2, 3], "offset": 4096, "nbytes": 24, "buffer": 0},
                {"name": "b", "dtype": "I64", "shape": [2], "offset": 24, "nbytes": 16, "buffer": 1}]})
            agent.ask(conn, {"type": "bucket", "id": 1,
                             "tensors": [{"name": "c", "dtype": "F16", "shape": [2], "offset": 0, "nbytes": 4}]})
            agent.ask(conn, {"type": "release"})
            agent.ask(conn, {"type": "finish", "version": "v2"})

        def run(weights):
            for name, tensor in weights:
                loaded[name] = tensor.clone()
                tensor.zero_()  # an engine scribbling on what it was given must not change the store

        agent = FakeAgent(self.dir.name, script)
        loaded = {}
        result = update_from_agent(self.endpoint, run, update="u1", gpu_uuid=GPU, timeout_s=5)
        agent.join()
        self.assertIsNone(agent.error)
        self.assertIn("host-buffers", agent.hello["features"])
        self.assertEqual([r["type"] for r in agent.replies], ["ack", "ack", "ack", "ack", "done"])
        self.assertTrue(torch.equal(loaded["a"], a))
        self.assertTrue(torch.equal(loaded["b"], b))
        self.assertTrue(torch.equal(loaded["c"], c))
        self.assertEqual(read_file(first), store_before)
        self.assertEqual(result["bytes"], 44)

    def test_host_buffers_stay_mapped_between_updates_and_follow_their_files(self):
        size = 2 * 4096
        path = self.host_file("store-kept", size, {0: torch.arange(4, dtype=torch.float32)})
        key = (path, 0, size)

        def update(scribble=False):
            def script(agent, conn):
                agent.ask(conn, {"type": "share", "host_buffers": [{"path": path, "offset": 0, "size": size}],
                                 "read_ahead": [[0, 0, 16]]})
                agent.ask(conn, {"type": "bucket", "id": 0, "tensors": [
                    {"name": "a", "dtype": "F32", "shape": [4], "offset": 0, "nbytes": 16, "buffer": 0}]})
                agent.ask(conn, {"type": "release"})
                agent.ask(conn, {"type": "finish", "version": "v"})

            def run(weights):
                for name, tensor in weights:
                    loaded[name] = tensor.clone()
                    if scribble:
                        tensor.add_(100)

            loaded = {}
            agent = FakeAgent(self.dir.name, script)
            update_from_agent(self.endpoint, run, update="u", gpu_uuid=GPU, timeout_s=5)
            agent.join()
            self.assertIsNone(agent.error)
            return loaded["a"]

        self.assertTrue(torch.equal(update(), torch.arange(4, dtype=torch.float32)))
        kept = host_buffers.CACHE._mappings[key]
        # The agent loads the next version into the same file: the kept mapping shows it.
        with open(path, "r+b") as f:
            f.write(torch.full((4,), 7.0).numpy().tobytes())
        self.assertTrue(torch.equal(update(), torch.full((4,), 7.0)))
        self.assertIs(host_buffers.CACHE._mappings[key], kept, "the second update read through the same mapping")
        # An engine that writes into what it was given: its private pages must not hide the next version.
        update(scribble=True)
        self.await_unmapped(key)
        with open(path, "r+b") as f:
            f.write(torch.full((4,), 9.0).numpy().tobytes())
        self.assertTrue(torch.equal(update(), torch.full((4,), 9.0)))
        # The agent deletes the file: the mapping goes too (the janitor looks once a second).
        os.unlink(path)
        self.await_unmapped(key)

    def await_unmapped(self, key):
        """Waits (10 s at most) until this process keeps no mapping of ``key``'s window (dropped off the update)."""
        deadline = time.monotonic() + 10
        while key in host_buffers.CACHE._mappings and time.monotonic() < deadline:
            threading.Event().wait(0.02)
        self.assertNotIn(key, host_buffers.CACHE._mappings)

    def test_host_buffer_entries_and_windows_that_do_not_fit_are_refused(self):
        path = self.host_file("store", 8192, {})
        window = {"path": path, "offset": 0, "size": 8192}
        cases = [
            ([window], [], {"name": "x", "dtype": "F32", "shape": [2], "offset": 0, "nbytes": 8, "buffer": 1},
             "host buffer 1"),
            ([window], [], {"name": "x", "dtype": "F32", "shape": [2], "offset": 8188, "nbytes": 8, "buffer": 0},
             "does not lie aligned"),
            ([dict(window, size=3 * 4096)], [], None, "passes its end"),
            ([window], [[0, 4096, 8192]], None, "outside the host buffers"),
            ([dict(window, path=os.path.join(self.dir.name, "missing"))], [], None, "missing"),
        ]
        for windows, read_ahead, entry, expected in cases:
            with self.subTest(expected=expected):
                def script(agent, conn, windows=windows, read_ahead=read_ahead, entry=entry):
                    reply = agent.ask(conn, {"type": "share", "host_buffers": windows, "read_ahead": read_ahead})
                    if entry is not None and reply["type"] == "ack":
                        agent.ask(conn, {"type": "bucket", "id": 0, "tensors": [entry]})

                self.assert_refused(script, expected)

    def test_a_failing_run_sends_the_traceback_and_raises(self):
        def script(agent, conn):
            agent.ask(conn, self.share())
            agent.ask(conn, {"type": "bucket", "id": 0,
                             "tensors": [{"name": "a", "dtype": "F32", "shape": [2], "offset": 0, "nbytes": 8}]})

        def run(weights):
            raise RuntimeError("parameter exploded")

        agent = FakeAgent(self.dir.name, script)
        with self.assertRaisesRegex(RuntimeError, "parameter exploded"):
            update_from_agent(self.endpoint, run, update="u1", gpu_uuid=GPU, timeout_s=5)
        agent.join()
        self.assertEqual(agent.replies[-1]["type"], "error")
        self.assertIn("parameter exploded", agent.replies[-1]["message"])

    def test_a_checksum_mismatch_is_an_error(self):
        self.write(0, torch.ones(2))

        def script(agent, conn):
            agent.ask(conn, self.share())
            agent.ask(conn, {"type": "bucket", "id": 0, "checksum": {"algorithm": "crc32", "value": 1},
                             "tensors": [{"name": "a", "dtype": "F32", "shape": [2], "offset": 0, "nbytes": 8}]})

        agent = FakeAgent(self.dir.name, script)
        with self.assertRaisesRegex(ValueError, "checksum mismatch"):
            update_from_agent(self.endpoint, lambda w: None, update="u1", gpu_uuid=GPU, timeout_s=5)
        agent.join()
        self.assertIn("checksum mismatch", agent.replies[-1]["message"])

    def test_entries_outside_the_buffer_or_with_wrong_sizes_are_refused(self):
        bad_entries = [
            {"name": "x", "dtype": "F32", "shape": [2], "offset": self.size - 4, "nbytes": 8},
            {"name": "x", "dtype": "F32", "shape": [3], "offset": 0, "nbytes": 8},
            {"name": "x", "dtype": "Q4", "shape": [2], "offset": 0, "nbytes": 2},
            {"name": "x", "dtype": "F32", "shape": [2], "offset": 2, "nbytes": 8},
        ]
        for entry in bad_entries:
            with self.subTest(entry=entry):
                def script(agent, conn, entry=entry):
                    agent.ask(conn, self.share())
                    agent.ask(conn, {"type": "bucket", "id": 0, "tensors": [entry]})

                self.assert_refused(script, "'x'")

    def test_abort_raises_with_the_reason(self):
        def script(agent, conn):
            agent.ask(conn, self.share())
            agent.ask(conn, {"type": "abort", "reason": "another worker failed"})

        agent = FakeAgent(self.dir.name, script)
        with self.assertRaisesRegex(UpdateAborted, "another worker failed"):
            update_from_agent(self.endpoint, lambda w: None, update="u1", gpu_uuid=GPU, timeout_s=5)
        agent.join()
        self.assertEqual(agent.replies[-1]["type"], "ack")

    def test_refused_hello_raises_the_agents_reason(self):
        agent = FakeAgent(self.dir.name, None, welcome=False)
        with self.assertRaisesRegex(AgentError, "no update expects this GPU"):
            update_from_agent(self.endpoint, lambda w: None, update="u1", gpu_uuid=GPU, timeout_s=5)
        agent.join()

    def test_an_agent_that_goes_quiet_times_out(self):
        quiet = threading.Event()

        def script(agent, conn):
            quiet.wait(5)

        agent = FakeAgent(self.dir.name, script)
        with self.assertRaises(TimeoutError):
            update_from_agent(self.endpoint, lambda w: None, update="u1", gpu_uuid=GPU, timeout_s=0.3)
        quiet.set()
        agent.join()

    def test_a_missing_agent_fails_after_the_connect_deadline(self):
        with self.assertRaisesRegex(TimeoutError, "cannot connect"):
            update_from_agent(self.endpoint, lambda w: None, update="u1", gpu_uuid=GPU, connect_timeout_s=0.3)


if __name__ == "__main__":
    unittest.main()
