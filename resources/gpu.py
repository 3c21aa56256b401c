"""GpuResource: the device, the ROCm environment and a model cache for a run.

Set up once per run: it exports the `rocm:` section of master_pipeline.yaml (shell
exports win) before torch is imported, picks the device, and caches every model it
loads, so a run over N tracks loads each model once. Models are freed at teardown.
"""

import gc
import time
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from mir.gpu import choose_device, device_description, peak_memory_mb
from resources.settings import PipelineSettings

# models kept across runs of one process when keep_models_between_runs is set (mir run)
_PROCESS_MODELS: dict[Hashable, Any] = {}


class GpuResource(ConfigurableResource):
    """Device choice and model cache.

    Attributes
    ----------
    settings : PipelineSettings
        `processing.device` (auto, rocm, cuda, cpu) and the `rocm:` environment.
    keep_models_between_runs : bool
        Keep loaded models for the life of the process (used by `mir run`, which runs one
        track per run) instead of freeing them at the end of each run.
    """

    settings: PipelineSettings
    keep_models_between_runs: bool = False

    #: process-wide counters, for tests and benchmarks
    setups: ClassVar[int] = 0
    loads: ClassVar[int] = 0

    _models: dict = PrivateAttr(default_factory=dict)
    _device: str | None = PrivateAttr(default=None)
    _load_seconds: float = PrivateAttr(default=0.0)
    _run_loads: int = PrivateAttr(default=0)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        GpuResource.setups += 1
        self._models = _PROCESS_MODELS if self.keep_models_between_runs else {}

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self.keep_models_between_runs:
            return
        self._models.clear()
        if self._device and self._device.startswith("cuda"):
            # the card's cached memory goes back only once no reference cycle holds a
            # tensor; on the CPU, memory goes with the last reference or at the next
            # automatic collection (a forced one cost 0.2-0.5 s at the end of every run)
            gc.collect()
            import torch

            torch.cuda.empty_cache()

    @property
    def device(self) -> str:
        """The torch device string ("cuda" for CUDA and ROCm GPUs, or "cpu")."""
        if self._device is None:
            self._device = choose_device(self.settings.config.processing.device)
        return self._device

    def model(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The model cached under `key`, loaded with `load()` (onto :attr:`device`) the first time."""
        if key not in self._models:
            t0 = time.perf_counter()
            model = load()
            if hasattr(model, "to"):
                model = model.to(self.device)
            self._models[key] = model
            self._load_seconds += time.perf_counter() - t0
            self._run_loads += 1
            GpuResource.loads += 1
        return self._models[key]

    def metadata(self) -> dict[str, Any]:
        """Device, model loads and their time, and peak memory, for the asset's metadata."""
        return {
            "device": device_description(self.device),
            "model_loads": self._run_loads,
            "model_load_seconds": round(self._load_seconds, 3),
            "peak_memory_mb": round(peak_memory_mb(self.device), 1),
        }
