"""BS-RoFormer separation from a local checkpoint and its yaml (the files UVR and
audio-separator publish), with the model modules of audio-separator 0.47.1 vendored in
:mod:`mir._vendor.bs_roformer`.

Loading follows audio-separator's RoformerLoader (the yaml's `model:` section gives the
network's arguments; a checkpoint may hold the state dict itself or under `state_dict` or
`model`), but passes every field of `model:` that the network takes (audio-separator's
loader keeps a fixed list and drops `mask_estimator_depth`, `stft_normalized`, ..., so
checkpoints trained with other values load wrongly or not at all), and :meth:`RoformerModel.demix` its MDXC separator for RoFormer models:
windows of `stft_hop_length * (inference.dim_t - 1)` samples, `overlap` windows over
each sample, each weighted by a Hamming window and the sum divided by the weights.

As in the original, the input is peak-normalised to `peak` (0.9) and so is each stem;
the result says so (`peak_normalized`), so stem loudness is not read as the mix's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mir.errors import ModelNotFound
from mir.separation.core import Separation, _stereo, process_in_blocks
from mir.signatures import SignatureError

ROFORMER_SR = 44100
#: prediction windows over each sample (audio-separator's MDXC `overlap`, our default there)
OVERLAP = 2
#: the defaults audio-separator's `_create_bs_roformer` applies to fields a yaml leaves out
#: (where they differ from the class's own, e.g. `num_stems`); `dim`, `depth` and
#: `freqs_per_bands` are required
_MODEL_DEFAULTS = {
    "stereo": False, "num_stems": 2, "time_transformer_depth": 2, "freq_transformer_depth": 2,
    "linear_transformer_depth": 0, "dim_head": 64, "heads": 8, "attn_dropout": 0.0,
    "ff_dropout": 0.0, "flash_attn": True, "mlp_expansion_factor": 4, "sage_attention": False,
    "zero_dc": True, "use_torch_checkpoint": False, "skip_connection": False,
}  # fmt: skip
_REQUIRED = ("dim", "depth", "freqs_per_bands")
#: fields the class types as tuples, which a plain yaml list gives as lists
_TUPLES = ("freqs_per_bands", "multi_stft_resolutions_window_sizes")


def _config_beside(path: Path) -> Path | None:
    """The yaml beside a checkpoint: `<stem>.yaml`, `config_<stem>.yaml` or `<stem>_config.yaml`."""
    stem = Path(path).stem
    for candidate in (f"{stem}.yaml", f"config_{stem}.yaml", f"{stem}_config.yaml"):
        if (Path(path).parent / candidate).is_file():
            return Path(path).parent / candidate
    return None


def _config_file(cfg) -> Path | None:
    return _config_beside(Path(cfg.model_dir) / cfg.model_file)


def check_roformer(cfg) -> None:
    """Raise ModelNotFound unless the checkpoint and its yaml are in `cfg.model_dir`."""
    ckpt = Path(cfg.model_dir) / cfg.model_file
    if not ckpt.is_file():
        raise ModelNotFound(ckpt, "separation.bs_roformer.model_file")
    if _config_file(cfg) is None:
        raise ModelNotFound(
            Path(cfg.model_dir) / f"{Path(cfg.model_file).stem}.yaml", "separation.bs_roformer.model_file",
            "the model's yaml configuration belongs beside its checkpoint",
        )  # fmt: skip


@dataclass
class RoformerModel:
    """A loaded BS-RoFormer: the network, its outputs' stems in order, and its window.

    A single-target model (the yaml's `training.target_instrument`, as the default
    `model_bs_roformer_ep_317` for vocals) yields one stem; the other, `residual`, is the
    mix minus it, named as audio-separator names it.
    """

    net: object
    instruments: list[str]
    chunk_size: int
    overlap: int = OVERLAP
    #: windows per forward pass (`separation.bs_roformer.batch_size`)
    batch_size: int = 1
    residual: str | None = None

    @property
    def stems(self) -> list[str]:
        """Every stem :meth:`demix` returns, in order."""
        return [*self.instruments, *([self.residual] if self.residual else [])]

    def demix(self, mix: np.ndarray) -> dict[str, np.ndarray]:
        """`{stem: (2, n) float32}` of a (2, n) mix at 44.1 kHz, on the network's device."""
        import torch
        from scipy.signal import windows

        net = self.net
        device = next(net.parameters()).device
        chunk, n = self.chunk_size, mix.shape[1]
        step = chunk // self.overlap
        window = torch.tensor(windows.hamming(chunk), dtype=torch.float32)
        shape = (len(self.instruments), *mix.shape)
        result = torch.zeros(shape, dtype=torch.float32)
        weight = torch.zeros(shape, dtype=torch.float32)
        audio = torch.as_tensor(np.ascontiguousarray(mix), dtype=torch.float32)
        starts = chunk_starts(n, chunk, step)
        with torch.inference_mode():
            for first in range(0, len(starts), self.batch_size):
                batch = starts[first : first + self.batch_size]
                # windows are `chunk` long, but for a mix shorter than one window
                parts = torch.stack([audio[:, s : s + chunk] for s in batch])
                outs = net(parts.to(device)).to("cpu")
                if outs.ndim == 3:  # a one-stem model gives (batch, channels, samples)
                    outs = outs.unsqueeze(1)
                length = min(parts.shape[-1], outs.shape[-1])
                for start, out in zip(batch, outs, strict=True):
                    result[..., start : start + length] += out[..., :length] * window[:length]
                    weight[..., start : start + length] += window[:length]
        result /= weight.clamp(min=1e-10)
        out = {name: result[i].numpy() for i, name in enumerate(self.instruments)}
        if self.residual:
            out[self.residual] = mix.astype(np.float32) - out[self.instruments[0]]
        return out


def chunk_starts(n: int, chunk: int, step: int) -> list[int]:
    """Window starts `step` apart covering `n` samples, the last window ending at the end
    (audio-separator's `_roformer_chunk_starts`)."""
    starts: list[int] = []
    for offset in range(0, n, step):
        if offset + chunk >= n:
            tail = max(n - chunk, 0)
            if not starts or starts[-1] != tail:
                starts.append(tail)
            break
        starts.append(offset)
    return starts


def read_config(path: Path) -> dict:
    """A model's yaml as audio-separator reads it: UVR's and the training repository's
    yamls hold python tuples (`!!python/tuple`)."""
    import yaml

    with open(path, encoding="utf-8") as f:
        config = yaml.load(f, Loader=yaml.FullLoader)
    if not isinstance(config, dict):
        raise SignatureError(f"{path}: not a model configuration (a mapping with `model:`)")
    return config


def network_args(model_cfg: dict, config_path: Path) -> dict:
    """The BSRoformer arguments of a yaml's `model:` section: audio-separator's defaults,
    then every field the yaml gives.

    Raises
    ------
    SignatureError
        For a missing `dim`, `depth` or `freqs_per_bands`, or fields the network does not
        take (another architecture's yaml, e.g. a Mel-band RoFormer's `num_bands`).
    """
    import inspect

    from mir._vendor.bs_roformer import BSRoformer

    missing = [k for k in _REQUIRED if k not in model_cfg]
    if missing:
        hint = (
            " (a Mel-band RoFormer's yaml: not a BS-RoFormer)" if "num_bands" in model_cfg else ""
        )
        raise SignatureError(f"{config_path}: `model:` lacks {', '.join(missing)}{hint}")
    accepted = set(inspect.signature(BSRoformer.__init__).parameters) - {"self"}
    unknown = sorted(set(model_cfg) - accepted)
    if unknown:
        raise SignatureError(
            f"{config_path}: `model:` has field(s) the BS-RoFormer network does not take: "
            f"{', '.join(unknown)} (another architecture, or a newer one than audio-separator "
            "0.47.1's, vendored)"
        )
    args = {**_MODEL_DEFAULTS, **model_cfg}
    for key in _TUPLES:
        if isinstance(args.get(key), list):
            args[key] = tuple(args[key])
    return args


def _state_dict(path: Path, *, mmap: bool = False) -> dict:
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state:
            return state[key]
    return state


def load_roformer(cfg) -> RoformerModel:
    """Load the configured BS-RoFormer on the CPU (:func:`separate_roformer` moves it to
    its device).

    Raises
    ------
    ModelNotFound
        For a missing checkpoint or yaml.
    SignatureError
        For a yaml the network cannot be built from, or a checkpoint whose keys or shapes
        are not those of the network its yaml describes (the mismatching keys are named).
    """
    from mir._vendor.bs_roformer import BSRoformer
    from mir.signatures import state_problems, state_summary

    check_roformer(cfg)
    config_path = _config_file(cfg)
    config = read_config(config_path)
    net = BSRoformer(**network_args(config.get("model") or {}, config_path))
    ckpt = Path(cfg.model_dir) / cfg.model_file
    state = _state_dict(ckpt)
    problems = state_problems(state_summary(state), state_summary(net.state_dict()))
    if problems:
        raise SignatureError(
            f"{ckpt}: the weights do not fit the network {config_path.name} describes: "
            + "; ".join(problems)
        )
    net.load_state_dict(state)
    net.eval()
    training = config.get("training") or {}
    target = training.get("target_instrument")
    instruments = [target] if target else list(training.get("instruments") or [])
    residual = _residual_name(target, list(training.get("instruments") or [])) if target else None
    model_cfg = config.get("model") or {}
    hop = model_cfg.get("stft_hop_length") or (config.get("audio") or {}).get("hop_length")
    dim_t = (config.get("inference") or {}).get("dim_t")
    if not instruments or not hop or not dim_t:
        raise SignatureError(
            f"{config_path}: needs training.instruments, model.stft_hop_length (or "
            "audio.hop_length) and inference.dim_t"
        )
    return RoformerModel(
        net=net,
        instruments=instruments,
        chunk_size=int(hop) * (int(dim_t) - 1),
        batch_size=cfg.batch_size,
        residual=residual,
    )


def _residual_name(target: str, instruments: list[str]) -> str:
    """The name audio-separator gives the mix minus a single target: the yaml's other
    instrument, else the target's pair (vocals and instrumental), else `no <target>`."""
    others = [name for name in instruments if name != target]
    if others:
        return others[0]
    pairs = {"vocals": "instrumental", "instrumental": "vocals"}
    return pairs.get(target.lower(), f"no {target}")


def separate_roformer(
    model: RoformerModel,
    samples: np.ndarray,
    sr: int,
    cfg,
    *,
    device: str = "cpu",
    block_s: float = 60.0,
) -> Separation:
    """Separate with a loaded BS-RoFormer: 44.1 kHz stereo, input and stems peak-normalised."""
    from mir.audio import resample

    model.net.to(device)
    stereo = _stereo(samples)
    if sr != ROFORMER_SR:
        stereo = np.stack(
            [resample(stereo[:, c], orig_sr=sr, target_sr=ROFORMER_SR) for c in range(2)], axis=1
        )
    peak = float(np.abs(stereo).max())
    mix = (stereo * (cfg.peak / peak) if peak > 0 else stereo).T.astype(np.float32)

    def run(block) -> np.ndarray:
        out = model.demix(np.ascontiguousarray(block))
        return np.stack([out[n][:, : block.shape[1]] for n in model.stems])

    estimates = process_in_blocks(
        run,
        mix,
        n_sources=len(model.stems),
        block=int(block_s * ROFORMER_SR),
        fade=ROFORMER_SR,
    )
    stems = {}
    for i, name in enumerate(model.stems):
        stem = estimates[i].T
        stem_peak = float(np.abs(stem).max())
        stems[name.lower()] = stem * (cfg.peak / stem_peak) if stem_peak > 0 else stem
    return Separation(stems=stems, sr=ROFORMER_SR, peak_normalized=True)


# -- signatures (`mir models verify`) -------------------------------------------------


def config_problems(path: Path) -> list[str]:
    """How a BS-RoFormer yaml differs from what :func:`load_roformer` reads: a `model:`
    section the network takes, `training.instruments` (or `target_instrument`), the hop
    (`model.stft_hop_length` or `audio.hop_length`) and `inference.dim_t`."""
    import yaml

    try:
        config = read_config(path)
        network_args(config.get("model") or {}, path)
    except SignatureError as exc:
        return [str(exc).removeprefix(f"{path}: ")]
    except yaml.YAMLError as exc:
        return [f"not valid YAML ({exc})"]
    problems = []
    training = config.get("training") or {}
    if not (training.get("target_instrument") or training.get("instruments")):
        problems.append("no training.instruments or training.target_instrument")
    model_cfg = config.get("model") or {}
    if not (model_cfg.get("stft_hop_length") or (config.get("audio") or {}).get("hop_length")):
        problems.append("no model.stft_hop_length or audio.hop_length")
    if not (config.get("inference") or {}).get("dim_t"):
        problems.append("no inference.dim_t")
    return problems


def checkpoint_problems(path: Path) -> list[str]:
    """How a BS-RoFormer checkpoint differs from the network its yaml (beside it) builds:
    missing, unexpected or reshaped state-dict keys. The network is built on the meta
    device and the checkpoint memory-mapped, so a 640 MB model is checked in about a second."""
    import torch

    from mir._vendor.bs_roformer import BSRoformer
    from mir.signatures import state_problems, state_summary

    config_path = _config_beside(path)
    if config_path is None:
        return [f"no {Path(path).stem}.yaml beside it (the network's configuration)"]
    problems = [f"{config_path.name}: {p}" for p in config_problems(config_path)]
    if problems:
        return problems
    args = network_args(read_config(config_path).get("model") or {}, config_path)
    try:
        with torch.device("meta"):
            net = BSRoformer(**args)
    except Exception:  # an operation without a meta kernel: build it for real
        net = BSRoformer(**args)
    try:
        state = _state_dict(path, mmap=True)
    except Exception as exc:  # torch raises many types for a file that is not a state dict
        return [f"not a torch state dict ({type(exc).__name__}: {exc})"]
    if not isinstance(state, dict):
        return [f"a {type(state).__name__}, not a state dict"]
    return [
        f"against {config_path.name}: {p}"
        for p in state_problems(state_summary(state), state_summary(net.state_dict()))
    ]
