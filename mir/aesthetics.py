"""Audiobox Aesthetics: four 1..10 scores of a recording from Meta's WavLM-based predictor.

`content_enjoyment`, `content_usefulness`, `production_complexity` and
`production_quality` (the paper's CE, CU, PC, PQ). The released `checkpoint.pt` is loaded
into the model's own architecture, `AesMultiOutput` from audiobox-aesthetics 0.0.4, vendored
in `mir/_vendor/audiobox_aesthetics` (its release declares torchaudio, which has no release
for our torch). Its `infer` module is never imported here, because it needs torchaudio
(the tests run it as the reference with a stand-in). Its inference path is reproduced
here: mono at 16 kHz (resampled with soxr, see :func:`mir.audio.resample`), 10 s windows
every 10 s with the last one zero-padded and masked, one prediction per window,
de-normalised with the checkpoint's per-axis mean and std, and averaged over the windows
weighted by the share of each window that holds audio. A missing checkpoint is an error,
never a placeholder score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mir.errors import ModelNotFound

SR = 16000
#: window length and hop of the predictor, in seconds (the package's inference values)
WINDOW_S, HOP_S = 10, 10
CHECKPOINT = "checkpoint.pt"
CONFIG_KEY = "aesthetics.checkpoint"
SOURCE_URL = "https://huggingface.co/facebook/audiobox-aesthetics/resolve/main/checkpoint.pt"
#: the model's output axes and the keys we store them under
AXES = {
    "CE": "content_enjoyment",
    "CU": "content_usefulness",
    "PC": "production_complexity",
    "PQ": "production_quality",
}
#: the constructor arguments the checkpoint's `model_cfg` provides
MODEL_CFG_KEYS = (
    "proj_num_layer",
    "proj_ln",
    "proj_act_fn",
    "proj_dropout",
    "nth_layer",
    "use_weighted_layer_sum",
    "precision",
    "normalize_embed",
    "output_dim",
)


def check_checkpoint(path: Path, *, config_key: str = CONFIG_KEY) -> None:
    """Raise :class:`ModelNotFound` unless the checkpoint file `path` exists."""
    path = Path(path)
    if not path.is_file():
        raise ModelNotFound(
            path,
            config_key,
            f"download {SOURCE_URL} into the folder set by `aesthetics.model_dir`",
        )


def _model_class():
    from mir._vendor.audiobox_aesthetics.model.aes import AesMultiOutput

    return AesMultiOutput


def load_aesthetics(path: Path, *, config_key: str = CONFIG_KEY):
    """Load the released checkpoint into audiobox-aesthetics' `AesMultiOutput`, on the CPU, in
    eval mode.

    The checkpoint is a dict of `state_dict` (keys prefixed `model.`), `model_cfg` (the
    constructor arguments) and `target_transform` (mean and std of each axis).

    Raises
    ------
    ModelNotFound
        When `path` does not exist.
    """
    path = Path(path)
    check_checkpoint(path, config_key=config_key)
    model_class = _model_class()
    import torch

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state = {re.sub(r"^model\.", "", k): v for k, v in checkpoint["state_dict"].items()}
    model = model_class(
        **{k: checkpoint["model_cfg"][k] for k in MODEL_CFG_KEYS},
        target_transform=checkpoint["target_transform"],
    )
    model.load_state_dict(state)
    model.eval()
    return model


def save_checkpoint(model, path: Path) -> Path:
    """Save an `AesMultiOutput` in the released checkpoint's format (what :func:`load_aesthetics`
    reads). Used to make random-weight models of the real architecture for tests."""
    import torch

    names = {
        torch.float64: "64",
        torch.float32: "32",
        torch.half: "16",
        torch.bfloat16: "bf16",
    }
    cfg = {k: getattr(model, k) for k in MODEL_CFG_KEYS}
    cfg["precision"] = names.get(cfg["precision"], str(cfg["precision"]))  # the class keeps a dtype
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
            "model_cfg": cfg,
            "target_transform": model.target_transform,
        },
        path,
    )
    return path


def _windows(signals: Sequence[np.ndarray]) -> list[tuple[int, int, int]]:
    """(signal index, start, valid samples) of every window of every signal."""
    window, hop = WINDOW_S * SR, HOP_S * SR
    out = []
    for i, y in enumerate(signals):
        if y.size == 0:
            raise ValueError("the aesthetics model needs at least one sample of audio")
        out += [(i, start, min(window, y.size - start)) for start in range(0, y.size, hop)]
    return out


def score(
    model,
    signals: Sequence[np.ndarray],
    *,
    device: str = "cpu",
    windows_per_pass: int = 16,
) -> list[dict[str, float]]:
    """Aesthetics scores of 16 kHz mono signals.

    Parameters
    ----------
    model : AesMultiOutput
        As returned by :func:`load_aesthetics` (moved to `device`).
    signals : sequence of np.ndarray, 1-d float32 at 16 kHz
        One per recording; the windows of all of them share the forward passes.
    windows_per_pass : int
        At most this many 10 s windows go through the model at once (bounds memory).
        Every window is padded to 10 s and masked, so a window's prediction does not
        depend on what shares its pass.

    Returns
    -------
    list of dict
        Per signal, `content_enjoyment`, `content_usefulness`, `production_complexity`,
        `production_quality`, each on the model's 1..10 scale.
    """
    import torch

    signals = [np.asarray(y, dtype=np.float32).reshape(-1) for y in signals]
    window = WINDOW_S * SR
    spans = _windows(signals)
    predictions = {axis: np.empty(len(spans)) for axis in AXES}
    with torch.inference_mode():
        for first in range(0, len(spans), windows_per_pass):
            part = spans[first : first + windows_per_pass]
            wav = np.zeros((len(part), 1, window), dtype=np.float32)
            for row, (i, start, n) in enumerate(part):
                wav[row, 0, :n] = signals[i][start : start + n]
            lengths = torch.tensor([n for _, _, n in part], device=device)
            mask = (torch.arange(window, device=device)[None, :] < lengths[:, None])[:, None, :]
            out = model({"wav": torch.from_numpy(wav).to(device), "mask": mask})
            for axis in AXES:
                predictions[axis][first : first + len(part)] = out[axis].float().cpu().numpy()
    owner = np.array([i for i, _, _ in spans])
    weight = np.array([n / window for _, _, n in spans])
    results = []
    for i in range(len(signals)):
        mine = owner == i
        w = weight[mine]
        values = {}
        for axis, key in AXES.items():
            stats = model.target_transform[axis]
            scores = predictions[axis][mine] * stats["std"] + stats["mean"]
            values[key] = float((scores * w).sum() / w.sum())
        results.append(values)
    return results


# -- signature (`mir models verify`) --------------------------------------------------


def checkpoint_problems(path: Path) -> list[str]:
    """How a checkpoint differs from the released one :func:`load_aesthetics` reads: a dict
    of `state_dict` (keys prefixed `model.`), `model_cfg` and `target_transform`, whose
    weights are exactly those of the `AesMultiOutput` its `model_cfg` builds (the file
    memory-mapped)."""
    import torch

    from mir.signatures import state_problems, state_summary

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # torch raises many types for a file that is not a checkpoint
        return [f"not a torch checkpoint ({type(exc).__name__}: {exc})"]
    missing = [
        k
        for k in ("state_dict", "model_cfg", "target_transform")
        if not isinstance(checkpoint, dict) or k not in checkpoint
    ]
    if missing:
        return [f"no {', '.join(missing)} (the released checkpoint holds them)"]
    absent = [k for k in MODEL_CFG_KEYS if k not in checkpoint["model_cfg"]]
    if absent:
        return [f"model_cfg lacks {', '.join(absent)}"]
    state = {re.sub(r"^model\.", "", k): v for k, v in checkpoint["state_dict"].items()}
    args = {k: checkpoint["model_cfg"][k] for k in MODEL_CFG_KEYS}
    try:
        with torch.device("meta"):
            model = _model_class()(**args, target_transform=checkpoint["target_transform"])
    except NotImplementedError:  # the constructor copies data: build it for real
        model = _model_class()(**args, target_transform=checkpoint["target_transform"])
    return state_problems(state_summary(state), state_summary(model.state_dict()))
