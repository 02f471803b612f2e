"""vLLM worker extension: start vLLM with
``--worker-extension-cls weightlift_engine.vllm_worker.WeightliftWorkerExtension`` and ``VLLM_SERVER_DEV_MODE=1``;
the agent then calls ``POST /collective_rpc`` with method ``update_weights_from_agent``.
vLLM is imported only inside the methods, so this module imports without vLLM.
"""

from .client import update_from_agent
from .request import parse_request


class WeightliftWorkerExtension:
    """Mixed into vLLM's GPU worker (``self`` is the worker: ``model_runner``, ``device``, ``model_config``)."""

    def update_weights_from_agent(self, request):
        from vllm.platforms import current_platform
        import vllm

        endpoint, update, timeout_s = parse_request(request)
        gpu_uuid = current_platform.get_device_uuid(self.device.index)
        model = self.model_runner.model

        def run(weights):
            model.load_weights(weights=weights)

        def post_hook():
            from vllm.model_executor.model_loader.utils import process_weights_after_loading
            process_weights_after_loading(model, self.model_config, self.device)

        return update_from_agent(endpoint, run, post_hook, update=update, gpu_uuid=gpu_uuid, timeout_s=timeout_s,
                                 engine=f"vllm {vllm.__version__}", device=self.device)
