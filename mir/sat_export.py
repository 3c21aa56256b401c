"""The Stable Audio Tools dataset: crop audio, one JSON sidecar per crop, a dataset config
and a custom metadata module that stable-audio-tools loads as it is.

stable-audio-tools' `audio_dir` dataset walks the folder for audio, and for each sample
calls `get_custom_metadata(info, audio)` from the module named in the dataset config; the
module below reads every sidecar once, on its first call, and answers from memory.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

CONFIG_NAME = "dataset_config.json"
MODULE_NAME = "custom_metadata.py"

CUSTOM_METADATA_MODULE = '''"""Custom metadata for stable-audio-tools, written by mir-platform's sat_dataset asset.

stable-audio-tools calls get_custom_metadata(info, audio) for every sample; info holds
"path" (the audio file), "relpath", "seconds_start" and "seconds_total". Each audio file
has a JSON sidecar beside it (same name, .json); all sidecars are read once, on the first
call, and kept in memory.
"""

import json
import os

_ROOT = os.path.dirname(os.path.abspath(__file__))
_SIDECARS = None


def _load():
    global _SIDECARS
    sidecars = {}
    for folder, _, files in os.walk(_ROOT):
        for name in files:
            if name.endswith(".json") and name != "dataset_config.json":
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    sidecars[os.path.splitext(path)[0]] = json.load(f)
    _SIDECARS = sidecars


def get_custom_metadata(info, audio):
    if _SIDECARS is None:
        _load()
    key = os.path.splitext(os.path.abspath(info["path"]))[0]
    meta = _SIDECARS.get(key)
    if meta is None:
        return {"prompt": ""}
    return dict(meta)
'''


def numeric_features(values: dict[str, Any]) -> dict[str, float]:
    """The numeric values of a crop's `.INFO` (no bookkeeping strings, lists or dicts)."""
    return {
        k: v for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }


def sidecar(values: dict[str, Any], *, prompt: str, seconds_total: float) -> dict[str, Any]:
    """The JSON a crop carries: prompt, seconds_start (the crop's start in its track),
    seconds_total (the track's duration) and every numeric feature."""
    out = numeric_features(values)
    if not values.get("bpm_is_defined", 1):
        out.pop("bpm", None)  # 120 stands for "no tempo found": not a value to train on
    out.update(
        {
            "prompt": prompt,
            "seconds_start": float(values.get("start_time", 0.0)),
            "seconds_total": float(seconds_total),
        }
    )
    return out


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link `source` to `target` when they share a file system, else copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write_dataset_files(root: Path) -> Path:
    """Write the dataset config and the custom metadata module; returns the config's path."""
    root.mkdir(parents=True, exist_ok=True)
    module = root / MODULE_NAME
    module.write_text(CUSTOM_METADATA_MODULE, encoding="utf-8")
    config = {
        "dataset_type": "audio_dir",
        "datasets": [
            {"id": "mir_platform", "path": str(root), "custom_metadata_module": str(module)}
        ],
        "random_crop": False,
    }
    path = root / CONFIG_NAME
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path
