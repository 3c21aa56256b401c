"""The Dagster code location: track-partitioned assets over the `mir` library."""

from mir.config import load_config
from mir.gpu import apply_rocm_env

# ROCm and PyTorch read their variables once, when torch is first imported: export the
# `rocm:` section of master_pipeline.yaml (shell exports win) as soon as this package is
# imported, before any asset module can import torch
apply_rocm_env(load_config().rocm)
