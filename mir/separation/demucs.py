"""Demucs separation from a local model repository in Demucs's own layout (`<name>.yaml`
listing `<sig>[-<checksum>].th` files): weights are never downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mir.errors import ModelNotFound
from mir.separation.core import Separation, _stereo, process_in_blocks

DEMUCS_MODELS = (
    "htdemucs",
    "htdemucs_ft",
    "htdemucs_6s",
    "hdemucs_mmi",
    "mdx",
    "mdx_extra",
    "mdx_q",
    "mdx_extra_q",
)


def demucs_model_available(name: str, repo: Path) -> bool:
    """True when `repo` holds `<name>.yaml` (a bag) or a `<name>[-checksum].th` file."""
    repo = Path(repo)
    return (
        (repo / f"{name}.yaml").is_file()
        or any(repo.glob(f"{name}.th"))
        or any(repo.glob(f"{name}-*.th"))
    )


def require_demucs(name: str, repo: Path, *, config_key: str = "separation.demucs.model") -> None:
    """Raise :class:`ModelNotFound` unless `repo` holds the Demucs model `name`."""
    if not demucs_model_available(name, repo):
        raise ModelNotFound(
            Path(repo) / f"{name}.yaml",
            config_key,
            f"put {name}.yaml and the .th files it lists in {repo} (separation.demucs.repo)",
        )


def load_demucs(name: str, repo: Path, *, config_key: str = "separation.demucs.model"):
    """Load a Demucs model (or bag of models) from a local repository, never the network.

    Raises
    ------
    ModelNotFound
        When the repository has neither `<name>.yaml` nor `<name>*.th`.
    """
    repo = Path(repo)
    require_demucs(name, repo, config_key=config_key)
    from demucs.pretrained import get_model

    model = get_model(name, repo=repo)
    model.eval()
    return model


def separate_demucs(
    model,
    samples: np.ndarray,
    sr: int,
    *,
    device: str = "cpu",
    shifts: int = 0,
    overlap: float = 0.25,
    block_s: float = 60.0,
) -> Separation:
    """Separate a mix with a loaded Demucs model.

    Parameters
    ----------
    samples : np.ndarray, (n_samples, channels)
        The mix; resampled to the model's rate and made stereo.
    block_s : float
        The track is separated in blocks of this many seconds (1 s crossfade), so a long
        track needs memory for one block plus the output.
    """
    import torch
    from demucs.apply import apply_model

    from mir.audio import resample

    model_sr = int(model.samplerate)
    stereo = _stereo(samples)
    if sr != model_sr:
        stereo = np.stack(
            [resample(stereo[:, c], orig_sr=sr, target_sr=model_sr) for c in range(2)], axis=1
        )
    wav = torch.from_numpy(np.ascontiguousarray(stereo.T))  # a copy, normalised in place
    del stereo
    ref = wav.mean(0)
    mean, std = ref.mean(), ref.std()
    del ref
    std = std if std > 1e-8 else torch.tensor(1.0)
    wav.sub_(mean).div_(std)

    def run(block: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            out = apply_model(
                model,
                block[None],
                shifts=shifts,
                split=True,
                overlap=overlap,
                progress=False,
                device=device,
            )
        return (out[0] * std + mean).float().cpu().numpy()  # (sources, 2, n)

    estimates = process_in_blocks(
        run, wav, n_sources=len(model.sources), block=int(block_s * model_sr), fade=model_sr
    )
    # transposed views, not copies: a long track's stems are the largest arrays here
    stems = {name: estimates[i].T for i, name in enumerate(model.sources)}
    return Separation(stems=stems, sr=model_sr)


def save_demucs_model(model, repo: Path, name: str) -> Path:
    """Save a Demucs model as a one-model repository entry: `<name>.yaml` naming
    `<name>0001-<sha256[:8]>.th`, in Demucs's own package format (what `load_demucs` reads).

    Used to make random-weight models of the real architectures for tests and benchmarks.
    """
    import yaml
    from demucs.states import get_state, save_with_checksum

    args, kwargs = model._init_args_kwargs
    package = {
        "klass": type(model),
        "args": args,
        "kwargs": kwargs,
        "state": get_state(model, None, False),
        "training_args": {},
    }
    repo = Path(repo)
    repo.mkdir(parents=True, exist_ok=True)
    save_with_checksum(package, repo / f"{name}0001.th")
    (repo / f"{name}.yaml").write_text(yaml.safe_dump({"models": [f"{name}0001"]}))
    return repo
