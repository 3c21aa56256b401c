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


# -- signature (`mir models verify`) --------------------------------------------------


def package_problems(path: Path) -> list[str]:
    """How a Demucs file differs from what :func:`load_demucs` reads.

    `path` is a `.th` package (Demucs's `serialize_model` dict: `klass`, `args`, `kwargs`,
    `state`, `training_args`, and in releases `metrics`) or a `<model>.yaml` listing
    signatures, each of whose `.th` files is checked. The network its `klass`, `args` and
    `kwargs` build must have exactly the state's keys and shapes (dtypes may differ:
    releases are float16 and load into float32).
    """
    import yaml

    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        try:
            listed = (yaml.safe_load(path.read_text()) or {}).get("models") or []
        except yaml.YAMLError as exc:
            return [f"not valid YAML ({exc})"]
        if not listed:
            return ["no `models:` list (the signatures of its .th files)"]
        problems = []
        for sig in listed:
            files = sorted(path.parent.glob(f"{sig}.th")) + sorted(path.parent.glob(f"{sig}-*.th"))
            if not files:
                problems.append(f"{sig}: no {sig}-<checksum>.th beside it")
            for th in files[:1]:
                problems += [f"{th.name}: {p}" for p in package_problems(th)]
        return problems
    return _th_problems(path)


def _th_problems(path: Path) -> list[str]:
    import warnings

    import torch

    from mir.signatures import state_problems, state_summary

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            package = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # torch raises many types for a file that is not a package
            return [f"not a torch file Demucs can load ({type(exc).__name__}: {exc})"]
    if not isinstance(package, dict):
        return [f"a {type(package).__name__}, not Demucs's package dict"]
    missing = [k for k in ("klass", "args", "kwargs", "state") if k not in package]
    if missing:
        what = (
            "a state dict, not Demucs's package"
            if all(hasattr(v, "shape") for v in package.values())
            else f"keys {', '.join(map(str, list(package)[:8]))}"
        )
        return [f"no {', '.join(missing)}: {what} (demucs.states.serialize_model writes them)"]
    klass, state = package["klass"], package["state"]
    if not getattr(klass, "__module__", "").startswith("demucs."):
        return [f"klass {klass!r} is not a Demucs model class"]
    if state.get("__quantized"):
        try:
            import diffq  # noqa: F401
        except ImportError:
            return ["quantized with DiffQ (the *_q models): needs the `diffq` package"]
        return []
    try:
        with torch.device("meta"):
            net = klass(*package["args"], **package["kwargs"])
    except Exception as exc:  # a configuration the class refuses
        return [f"{klass.__name__}(**kwargs) fails: {exc}"]
    problems = state_problems(state_summary(state), state_summary(net.state_dict()))
    sources = list(package["kwargs"].get("sources") or [])
    if not sources:
        problems.append("no `sources` in kwargs")
    return problems
