"""The Stable Audio Tools dataset: crop audio, one JSON sidecar per crop, the crop's time
series, a dataset config, a custom metadata module that stable-audio-tools loads as it
is, and a model-config fragment with a conditioner for every sidecar key.

stable-audio-tools' `audio_dir` dataset walks the folder for audio, and for each sample
calls `get_custom_metadata(info, audio)` from the module named in the dataset config; the
module below reads every sidecar once, on its first call, and answers from memory. Each
sidecar key is a conditioner input: `prompt` (text), `seconds_start`, `seconds_total` and
the numeric keys chosen in `export.conditioning_keys`, nothing else.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mir.conditioning import conditioning_feature
from mir.dataset.files import write_json, write_text

CONFIG_NAME = "dataset_config.json"
MODULE_NAME = "custom_metadata.py"
#: the conditioning part of a stable-audio-tools model config, merged by the user
CONDITIONING_NAME = "model_config_conditioning.json"
#: what every sidecar holds besides the numeric keys (get_custom_metadata's contract)
BASE_KEYS = ("prompt", "seconds_start", "seconds_total")
#: the suffix of the crop's time series beside its audio (see mir.dataset.timeseries.NPZ_SUFFIX)
TIMESERIES_SUFFIX = ".TIMESERIES.npz"

CUSTOM_METADATA_MODULE = '''"""Custom metadata for stable-audio-tools, written by mir-platform's sat_dataset asset.

stable-audio-tools calls get_custom_metadata(info, audio) for every sample; info holds
"path" (the audio file), "relpath", "seconds_start" and "seconds_total". Each audio file
has a JSON sidecar beside it (same name, .json); all sidecars are read once, on the first
call, and kept in memory. A sidecar holds exactly:

- "prompt": the text prompt (str)
- "seconds_start": where the crop starts in its track (s)
- "seconds_total": the duration of the track (s)
- one number per key of the dataset's conditioning (model_config_conditioning.json at
  the dataset root, one `number` conditioner per key, with its min_val and max_val)

Beside each audio file lies <crop>.TIMESERIES.npz: float32 arrays of n steps (256 for
crops of 524288 samples: the latent length of Stable Audio Open small), one row per
step of equal length over the crop: rms_energy_{bass,body,mid,air}_ts (dBFS, floor
-60), spectral_{flatness,flux,skewness,kurtosis}_ts, beat_activations_ts,
downbeat_activations_ts, onsets_activations_ts (0..1), hpcp_ts (n, 12; C = 0, each step's
maximum 1), tonic_ts (pitch class, C = 0), tonic_strength_ts; and "__meta__", a JSON
string (n_steps, start_time, end_time, duration, sample_rate, fields). get_custom_metadata
does not return them (a conditioner on a series is the user's own); load_timeseries(info)
reads them for one sample.
"""

import json
import os

_ROOT = os.path.dirname(os.path.abspath(__file__))
_SIDECARS = None


def _load():
    global _SIDECARS
    sidecars = {}
    for folder, _, files in os.walk(_ROOT):
        if folder == _ROOT:
            continue  # the dataset config and the conditioning fragment
        for name in files:
            if name.endswith(".json"):
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


def load_timeseries(info):
    """{field: array} of the sample's .TIMESERIES.npz, plus "__meta__" as a dict."""
    import numpy as np

    path = os.path.splitext(os.path.abspath(info["path"]))[0] + ".TIMESERIES.npz"
    with np.load(path, allow_pickle=False) as data:
        out = {k: data[k] for k in data.files if k != "__meta__"}
        out["__meta__"] = json.loads(str(data["__meta__"]))
    return out
'''


def conditioning_values(values: dict[str, Any], keys: Iterable[str]) -> dict[str, float]:
    """The numbers `values` (a crop's `.INFO`) holds for `keys`; keys without a value are
    left out, never made up: a bpm that is not defined (no steady beat), a key of unknown
    mode, a model score of a track the model has not seen."""
    out: dict[str, float] = {}
    for key in keys:
        if key == "tonic_scale_minor":
            scale = values.get("tonic_scale")
            if scale in ("major", "minor"):
                out[key] = float(scale == "minor")
            continue
        if key == "tonic" and values.get("tonic_scale") not in ("major", "minor"):
            continue  # tonic 0 stands for "no key found"
        if key == "bpm" and (not values.get("bpm_is_defined", 1) or not values.get("bpm")):
            continue  # 120 or 0 stand for "no tempo found": not values to train on
        value = values.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(value):
            out[key] = float(value)
    return out


def sidecar(
    values: dict[str, Any], *, prompt: str, seconds_total: float, keys: Iterable[str]
) -> dict[str, Any]:
    """The JSON a crop carries: prompt, seconds_start (the crop's start in its track),
    seconds_total (the track's duration) and the crop's value of each of `keys`."""
    return {
        "prompt": prompt,
        "seconds_start": float(values.get("start_time", 0.0)),
        "seconds_total": float(seconds_total),
        **conditioning_values(values, keys),
    }


def conditioning_fragment(
    keys: Iterable[str],
    *,
    prompt_model: str = "t5-base",
    prompt_max_length: int = 128,
    seconds_max: float = 512,
    cond_dim: int = 768,
) -> dict[str, Any]:
    """The `model.conditioning` and `model.diffusion` conditioner ids of a stable-audio-tools
    `diffusion_cond` model config, written as its own configs write them: a `t5` prompt,
    `number` conditioners for `seconds_start` and `seconds_total` (0..`seconds_max`) and one
    `number` conditioner per key with `min_val`/`max_val` from the feature table.

    The numeric keys go to cross attention only: `global_cond_ids` stays the model's
    seconds pair, since each global id widens the model's `global_cond_dim`."""
    configs: list[dict[str, Any]] = [
        {
            "id": "prompt",
            "type": "t5",
            "config": {"t5_model_name": prompt_model, "max_length": int(prompt_max_length)},
        },
        *(
            {"id": name, "type": "number", "config": {"min_val": 0, "max_val": seconds_max}}
            for name in ("seconds_start", "seconds_total")
        ),
    ]
    keys = list(keys)
    for key in keys:
        feature = conditioning_feature(key)
        configs.append(
            {
                "id": key,
                "type": "number",
                "config": {"min_val": feature.min, "max_val": feature.max},
            }
        )
    return {
        "model": {
            "conditioning": {"configs": configs, "cond_dim": cond_dim},
            "diffusion": {
                "cross_attention_cond_ids": [*BASE_KEYS, *keys],
                "global_cond_ids": ["seconds_start", "seconds_total"],
            },
        }
    }


def remove_other_files(folder: Path, keep: Iterable[str]) -> list[str]:
    """Delete the files of `folder` whose names are not in `keep` (the crops that no longer
    exist, and anything a killed run left half-written); returns their names."""
    keep = set(keep)
    removed = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.name not in keep:
                path.unlink(missing_ok=True)
                removed.append(path.name)
    return removed


def write_dataset_files(root: Path) -> Path:
    """Write the dataset config and the custom metadata module; returns the config's path."""
    root.mkdir(parents=True, exist_ok=True)
    module = root / MODULE_NAME
    write_text(module, CUSTOM_METADATA_MODULE)
    config = {
        "dataset_type": "audio_dir",
        "datasets": [
            {"id": "mir_platform", "path": str(root), "custom_metadata_module": str(module)}
        ],
        "random_crop": False,
    }
    path = root / CONFIG_NAME
    write_json(path, config, indent=2)
    return path


def sidecar_keys(root: Path) -> tuple[set[str], int]:
    """(the numeric keys every sidecar under `root` holds, the number of sidecars)."""
    common: set[str] | None = None
    count = 0
    for path in root.glob("*/*.json"):
        if path.name.startswith("."):
            continue
        keys = set(json.loads(path.read_text(encoding="utf-8"))) - set(BASE_KEYS)
        common = keys if common is None else common & keys
        count += 1
    return common or set(), count


def dataset_items(root: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """{`<Track>/<crop>`: (its audio file, its sidecar)} of every sample of the dataset
    (a sidecar without its audio, or one that is not JSON, is left out)."""
    out = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        audio: dict[str, Path] = {}
        sidecars: list[Path] = []
        for path in folder.iterdir():
            if path.name.startswith(".") or not path.is_file():
                continue
            if path.suffix == ".json":
                sidecars.append(path)
            elif path.suffix != ".npz":
                audio[path.stem] = path
        for path in sorted(sidecars):
            try:
                sidecar = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if path.stem in audio:
                out[f"{folder.name}/{path.stem}"] = (audio[path.stem], sidecar)
    return out


def _seconds(path: Path) -> float:
    """The duration of an audio file from its header (0 when it has none to read)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError):
        return 0.0
    return info.frames / info.samplerate if info.samplerate else 0.0


def write_dataset_card(root: Path, *, cfg) -> Path:
    """The dataset's card (`README.md` at its root, :func:`mir.dataset.card.write_card`):
    crops, tracks and hours of audio, the statistics of the sidecars' values (and each
    crop's `duration`, s), the layout, the configuration (`export` and `crops` of `cfg`,
    the :class:`~mir.config.MasterConfig`), and the model and licence behind each key the
    samples carry: the prompt's captioner, the families of the conditioning values and of
    each series."""
    from mir.dataset.card import key_models, value_families, write_card
    from mir.dataset.timeseries import series_family

    items = dataset_items(root)
    durations = {name: _seconds(audio) for name, (audio, _) in items.items()}
    keys = {k for _, sidecar in items.values() for k in sidecar}
    sidecar_families: dict[str, tuple[str, ...]] = {"prompt": ("captions",)}
    sidecar_families.update({k: () for k in BASE_KEYS if k != "prompt"})
    sidecar_families.update({k: value_families(k) for k in sorted(keys - set(BASE_KEYS))})
    fields: list[str] = []
    for audio, _ in items.values():
        series = audio.with_name(f"{audio.stem}{TIMESERIES_SUFFIX}")
        if series.is_file():
            import numpy as np

            with np.load(series, allow_pickle=False) as data:
                fields = sorted(f for f in data.files if f != "__meta__")
            break
    series_families = {}
    for field in fields:
        family = series_family(field)
        series_families[field] = (family,) if family else ()
    values = [
        (name, key, value) for name, (_, sidecar) in items.items() for key, value in sidecar.items()
    ] + [(name, "duration", seconds) for name, seconds in durations.items()]
    layout = [
        "- `<Track>/<crop>.<ext>`: a crop's audio; `<crop>.json`: its sidecar (prompt, "
        "seconds_start, seconds_total, its conditioning values); `<crop>.TIMESERIES.npz`: "
        "its series",
        f"- `{CONFIG_NAME}` (dataset_type audio_dir) and `{MODULE_NAME}` (the custom "
        f"metadata stable-audio-tools loads); `{CONDITIONING_NAME}`: the conditioners to "
        "merge into a model config",
    ]
    return write_card(
        root,
        title=f"Stable Audio Tools dataset `{root.name}`",
        about=[
            "Training crops of the library for stable-audio-tools' `audio_dir` dataset "
            f"(`{CONFIG_NAME}` names this folder and `{MODULE_NAME}`).",
        ],
        counts={
            "items": len(items),
            "tracks": len({name.split("/", 1)[0] for name in items}),
            "hours": round(sum(durations.values()) / 3600, 4),
        },
        models=[
            ("Files", key_models({"<Track>/<crop>.<ext>": ("training_crops",)}, cfg)),
            ("Keys of `<crop>.json`", key_models(sidecar_families, cfg)),
            ("Series of `<crop>.TIMESERIES.npz`", key_models(series_families, cfg)),
        ],
        configuration={
            "export": cfg.export.model_dump(mode="json"),
            "crops": cfg.crops.model_dump(mode="json"),
        },
        values=values,
        sections=[
            ("Layout", layout),
            (
                "Series (`<crop>.TIMESERIES.npz`)",
                [", ".join(f"`{f}`" for f in fields) or "(none)"],
            ),
        ],
    )
