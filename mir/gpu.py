"""Device selection and the ROCm environment, for everything that uses torch.

`apply_rocm_env` must run before torch is first imported in a process: ROCm and PyTorch
read these variables once, at import. Values already exported in the shell win (they are
only `setdefault`), so a user can always override the configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: the original's defaults, used when the config has no `rocm:` section
ROCM_DEFAULTS = {
    "FLASH_ATTENTION_TRITON_AMD_ENABLE": "TRUE",
    "PYTORCH_TUNABLEOP_ENABLED": "1",
    "PYTORCH_TUNABLEOP_TUNING": "0",
    "PYTORCH_ALLOC_CONF": "garbage_collection_threshold:0.8,max_split_size_mb:512",
    "HIP_FORCE_DEV_KERNARG": "1",
    "TORCH_COMPILE": "0",
}


def apply_rocm_env(settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """Export the ROCm/PyTorch variables of `settings` unless the shell already set them.

    Returns
    -------
    dict
        The variables as they are now in the environment.
    """
    settings = ROCM_DEFAULTS if settings is None else settings
    for key, value in settings.items():
        os.environ.setdefault(key, str(value))
    return {key: os.environ[key] for key in settings}


def choose_device(requested: str = "auto") -> str:
    """The torch device string for `requested` (auto, rocm, cuda or cpu).

    A ROCm build of torch reports its GPUs through `torch.cuda`, with `torch.version.hip`
    set; "rocm" and "cuda" therefore both map to "cuda" in torch, but each insists on
    its own build.

    Raises
    ------
    RuntimeError
        When the requested accelerator is not available.
    """
    import torch

    has_gpu = torch.cuda.is_available()
    is_rocm = getattr(torch.version, "hip", None) is not None
    if requested == "cpu":
        return "cpu"
    if requested == "auto":
        return "cuda" if has_gpu else "cpu"
    if requested == "rocm":
        if not (has_gpu and is_rocm):
            raise RuntimeError(
                "device 'rocm' requested, but this torch build has no ROCm GPU available"
            )
        return "cuda"
    if requested == "cuda":
        if not (has_gpu and not is_rocm):
            raise RuntimeError(
                "device 'cuda' requested, but this torch build has no CUDA GPU available"
            )
        return "cuda"
    raise ValueError(f"unknown device {requested!r}: use auto, rocm, cuda or cpu")


def device_description(device: str) -> str:
    """A readable name for the device: the GPU's name and backend, or "cpu"."""
    import torch

    if device.startswith("cuda"):
        backend = "ROCm" if getattr(torch.version, "hip", None) else "CUDA"
        return f"{torch.cuda.get_device_name(0)} ({backend})"
    return "cpu"


def peak_memory_mb(device: str) -> float:
    """Peak memory of this process on `device`: GPU allocations, or the CPU's max RSS."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
