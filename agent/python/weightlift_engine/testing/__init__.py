"""A small vLLM-style engine on the CPU for tests, the e2e suite and the demo (``python -m weightlift_engine.testing.engine``)."""
