import struct
import unittest

from weightlift_engine import protocol
from weightlift_engine.protocol import ProtocolError


class FrameTest(unittest.TestCase):

    def test_round_trip(self):
        frame = protocol.encode_frame({"type": "share", "handle": {"kind": "cuda-ipc"}}, b"\x01" * 64)
        json_length, raw_length = protocol.decode_header(frame[:8])
        self.assertEqual(raw_length, 64)
        body = frame[8:8 + json_length]
        self.assertEqual(protocol.decode_body(body)["handle"]["kind"], "cuda-ipc")
        self.assertEqual(frame[8 + json_length:], b"\x01" * 64)

    def test_oversized_json_is_rejected_before_reading(self):
        with self.assertRaisesRegex(ProtocolError, "exceeds the limit"):
            protocol.decode_header(struct.pack(">II", protocol.MAX_JSON_BYTES + 1, 0))

    def test_oversized_raw_is_rejected(self):
        with self.assertRaisesRegex(ProtocolError, "raw length"):
            protocol.decode_header(struct.pack(">II", 10, 5000))

    def test_empty_json_is_rejected(self):
        with self.assertRaisesRegex(ProtocolError, "at least 2"):
            protocol.decode_header(struct.pack(">II", 0, 0))

    def test_body_must_be_an_object_with_a_type(self):
        with self.assertRaisesRegex(ProtocolError, "not an object"):
            protocol.decode_body(b"[1,2]")
        with self.assertRaisesRegex(ProtocolError, "type"):
            protocol.decode_body(b'{"id": 1}')
        with self.assertRaisesRegex(ProtocolError, "not UTF-8 JSON"):
            protocol.decode_body(b"\xff\xfe")

    def test_endpoints(self):
        self.assertEqual(protocol.parse_endpoint("unix:///run/weightlift/weightlift.sock")[1],
                         "/run/weightlift/weightlift.sock")
        self.assertEqual(protocol.parse_endpoint("tcp://127.0.0.1:7300")[1], ("127.0.0.1", 7300))
        with self.assertRaises(ValueError):
            protocol.parse_endpoint("http://x")

    def test_trigger_request_and_local_socket_dir(self):
        from weightlift_engine.request import local_endpoint, parse_request
        endpoint, update, timeout_s = parse_request(
            '{"endpoint": "unix:///run/weightlift/weightlift.sock", "update": "ns/wu/2", "timeout_s": 5}')
        self.assertEqual((update, timeout_s), ("ns/wu/2", 5.0))
        self.assertEqual(local_endpoint("unix:///run/weightlift/weightlift.sock", "/var/run/wl"),
                         "unix:///var/run/wl/weightlift.sock")
        self.assertEqual(local_endpoint("tcp://10.0.0.1:7300", "/var/run/wl"), "tcp://10.0.0.1:7300")
        with self.assertRaises(ValueError):
            parse_request('{"update": "x"}')

    def test_vllm_extension_imports_without_vllm(self):
        from weightlift_engine.vllm_worker import WeightliftWorkerExtension
        self.assertTrue(callable(WeightliftWorkerExtension.update_weights_from_agent))


if __name__ == "__main__":
    unittest.main()
