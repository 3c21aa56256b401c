"""Loading and running the autoencoders of the latent corpus: SAME-L, SAME-S (Stable Audio
3) and the Stable Audio Open 1.0 VAE.

Each autoencoder is a folder of two files, both the user's (models/README.md, "Latents"):
the checkpoint and the configuration it was published with.

=========  ===================================  ==========================================
encoder    files                                architecture
=========  ===================================  ==========================================
same-l     model.safetensors, model_config.json :mod:`mir.latents.same`
same-s     model.safetensors, model_config.json :mod:`mir.latents.same`
sao-vae    vae_model.ckpt, vae_config.json      stable-audio-tools' Oobleck (vendored)
=========  ===================================  ==========================================

A full Stable Audio 3 / Stable Audio Open checkpoint works too: its keys under
`pretransform.model.` are the autoencoder's. Weight-normalised convolutions (`weight_g`,
`weight_v`, as upstream saves them) are folded into plain weights for the SAME modules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mir.errors import MirError, ModelNotFound
from mir.latents.presets import Preset

#: the files of each encoder's folder: (checkpoint, configuration)
FILES = {
    "same-l": ("model.safetensors", "model_config.json"),
    "same-s": ("model.safetensors", "model_config.json"),
    "sao-vae": ("vae_model.ckpt", "vae_config.json"),
}
#: the config key of each encoder's folder
CONFIG_KEYS = {
    "same-l": "latents.same_l_dir",
    "same-s": "latents.same_s_dir",
    "sao-vae": "latents.sao_vae_dir",
}
NESTED_PREFIX = "pretransform.model."


class CheckpointMismatch(MirError):
    """A checkpoint whose tensors do not fit the architecture its configuration describes."""


def check_autoencoder(encoder: str, folder: str | Path) -> tuple[Path, Path]:
    """The (checkpoint, configuration) paths of `encoder` in `folder`.

    Raises
    ------
    ModelNotFound
        Naming the first missing file and the folder's config key.
    """
    folder = Path(folder)
    paths = tuple(folder / name for name in FILES[encoder])
    for path in paths:
        if not path.is_file():
            raise ModelNotFound(
                path,
                CONFIG_KEYS[encoder],
                f"`mir models fetch {encoder}` prints where to get it (models/README.md, "
                "'Latents'); without it the `latents` asset is left out",
            )
    return paths  # type: ignore[return-value]


def _fold_weight_norm(state: dict) -> dict:
    """`X.weight_g` and `X.weight_v` (or `X.parametrizations.weight.original0/1`) as
    `X.weight = g * v / |v|` (norm over every dim but the first)."""
    import torch

    out = dict(state)
    for key in [k for k in state if k.endswith(("weight_g", "parametrizations.weight.original0"))]:
        base = (
            key.rsplit(".weight_g", 1)[0]
            if key.endswith("weight_g")
            else key[: -len(".parametrizations.weight.original0")]
        )
        v_key = (
            f"{base}.weight_v"
            if key.endswith("weight_g")
            else f"{base}.parametrizations.weight.original1"
        )
        g, v = out.pop(key), out.pop(v_key)
        dims = tuple(range(1, v.dim()))
        out[f"{base}.weight"] = (
            g * v / torch.linalg.vector_norm(v.float(), dim=dims, keepdim=True).to(v.dtype)
        )
    return out


def _unprefixed(state: Mapping[str, Any]) -> dict:
    """The autoencoder's tensors of a full model's checkpoint (`pretransform.model.…`)."""
    if any(k.startswith(NESTED_PREFIX) for k in state):
        return {k[len(NESTED_PREFIX) :]: v for k, v in state.items() if k.startswith(NESTED_PREFIX)}
    return dict(state)


def load_state(module, state: Mapping[str, Any], *, fold: bool, source: Path | str) -> None:
    """Load `state` into `module` strictly; a key that is not the module's is tried without
    one of its dotted parts, as upstream's loader does (a wrapper level of another save).

    Raises
    ------
    CheckpointMismatch
        Naming the missing, unexpected or misshapen tensors.
    """
    state = _unprefixed(state)
    if fold:
        state = _fold_weight_norm(state)
    own = module.state_dict()
    remapped = {}
    for key, value in state.items():
        if key not in own:
            parts = key.split(".")
            for i in range(1, len(parts)):
                candidate = ".".join(parts[:i] + parts[i + 1 :])
                if candidate in own:
                    key = candidate
                    break
        remapped[key] = value
    missing = sorted(set(own) - set(remapped))
    unexpected = sorted(set(remapped) - set(own))
    misshapen = sorted(
        k for k in set(own) & set(remapped) if tuple(own[k].shape) != tuple(remapped[k].shape)
    )
    if missing or unexpected or misshapen:
        raise CheckpointMismatch(
            f"{source}: the checkpoint does not fit its configuration: "
            f"missing {missing[:5]}{'…' if len(missing) > 5 else ''}, "
            f"unexpected {unexpected[:5]}{'…' if len(unexpected) > 5 else ''}, "
            f"misshapen {misshapen[:5]}"
        )
    module.load_state_dict(remapped, strict=True)


@dataclass
class Autoencoder:
    """A loaded autoencoder: the torch module and its shape.

    Attributes
    ----------
    encoder : str
        `same-l`, `same-s` or `sao-vae`.
    module : torch.nn.Module
        In eval mode, with `encode(audio)` and `decode(latents)`.
    latent_channels, samples_per_frame, sample_rate : int
        The latent width, the downsampling ratio and the input rate (Hz).
    """

    encoder: str
    module: Any
    latent_channels: int
    samples_per_frame: int
    sample_rate: int
    source: str = ""

    def to(self, device: str) -> Autoencoder:
        self.module.to(device)
        return self

    @property
    def device(self) -> str:
        return str(next(self.module.parameters()).device)

    def encode(self, audio: np.ndarray, *, batch_size: int = 4) -> np.ndarray:
        """Latents of stereo windows.

        Parameters
        ----------
        audio : np.ndarray, (n, 2, samples), float32 in [-1, 1]
            At :attr:`sample_rate`; `samples` a multiple of :attr:`samples_per_frame`.
        batch_size : int
            Windows per forward pass.

        Returns
        -------
        np.ndarray, (n, latent_channels, samples / samples_per_frame), float32
        """
        import torch

        if audio.ndim != 3 or audio.shape[-1] % self.samples_per_frame:
            raise ValueError(
                f"audio must be (n, channels, k * {self.samples_per_frame}); got {audio.shape}"
            )
        frames = audio.shape[-1] // self.samples_per_frame
        out = []
        with torch.inference_mode():
            for i in range(0, len(audio), batch_size):
                x = torch.from_numpy(np.ascontiguousarray(audio[i : i + batch_size])).to(
                    self.device, torch.float32
                )
                z = self.module.encode(x)[..., :frames]
                out.append(z.float().cpu().numpy())
        return (
            np.concatenate(out) if out else np.zeros((0, self.latent_channels, frames), np.float32)
        )

    def decode(self, latents: np.ndarray) -> np.ndarray:
        """Audio of latents (n, latent_channels, frames): (n, 2, frames * samples_per_frame)."""
        import torch

        with torch.inference_mode():
            z = torch.from_numpy(np.ascontiguousarray(latents)).to(self.device, torch.float32)
            audio = self.module.decode(z)[..., : latents.shape[-1] * self.samples_per_frame]
            return audio.float().cpu().numpy()


def build_autoencoder(encoder: str, config: dict[str, Any]) -> Autoencoder:
    """An autoencoder of the architecture `config` describes (a published
    `model_config.json` / `vae_config.json` as a dict), with its initial weights."""
    model = config["model"]
    if encoder == "sao-vae":
        from mir.latents.sao_vae import OobleckVAE

        module = OobleckVAE(model)
    else:
        from mir.latents.same import SAMEAutoencoder

        module = SAMEAutoencoder(model)
    module.eval()
    return Autoencoder(
        encoder,
        module,
        module.latent_dim,
        module.downsampling_ratio,
        int(config.get("sample_rate", 44100)),
    )


def load_autoencoder(encoder: str, folder: str | Path) -> Autoencoder:
    """The autoencoder in `folder` (its configuration and checkpoint), on the CPU, in eval
    mode, frozen.

    Raises
    ------
    ModelNotFound
        When a file is missing (naming it and the folder's config key).
    CheckpointMismatch
        When the checkpoint does not fit the configuration.
    """
    checkpoint, config_file = check_autoencoder(encoder, folder)
    config = json.loads(config_file.read_text(encoding="utf-8"))
    ae = build_autoencoder(encoder, config)
    if checkpoint.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(checkpoint), device="cpu")
    else:
        import torch

        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state)
    load_state(ae.module, state, fold=encoder != "sao-vae", source=checkpoint)
    ae.module.requires_grad_(False)
    ae.source = str(checkpoint)
    return ae


def save_autoencoder(ae: Autoencoder, config: dict[str, Any], folder: str | Path) -> Path:
    """Write `ae` as its published files (checkpoint and configuration) into `folder`: how
    the tests make tiny random-weight models of the real architecture. SAME convolutions
    are saved weight-normalised (`weight_g`, `weight_v`), as upstream's are."""
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint, config_file = (folder / name for name in FILES[ae.encoder])
    config_file.write_text(json.dumps(config, indent=1), encoding="utf-8")
    state = {k: v.detach().clone().contiguous() for k, v in ae.module.state_dict().items()}
    if ae.encoder == "sao-vae":
        torch.save({"state_dict": state}, checkpoint)
        return checkpoint
    from safetensors.torch import save_file

    convs = {name for name, m in ae.module.named_modules() if isinstance(m, torch.nn.Conv1d)}
    out = {}
    for key, value in state.items():
        base = key.rsplit(".", 1)[0]
        if base in convs and key.endswith(".weight"):
            g = torch.linalg.vector_norm(value, dim=tuple(range(1, value.dim())), keepdim=True)
            out[f"{base}.weight_g"], out[f"{base}.weight_v"] = g, value.clone()
        else:
            out[key] = value
    save_file(out, str(checkpoint))
    return checkpoint


def preset_check(p: Preset, ae: Autoencoder) -> None:
    """Raise :class:`CheckpointMismatch` when `ae` does not give `p`'s latent shape."""
    if (ae.latent_channels, ae.samples_per_frame, ae.sample_rate) != (
        p.latent_channels,
        p.samples_per_frame,
        p.sample_rate,
    ):
        raise CheckpointMismatch(
            f"{ae.source or ae.encoder}: {ae.latent_channels} channels at "
            f"{ae.samples_per_frame} samples per frame, {ae.sample_rate} Hz; preset {p.name} "
            f"expects {p.latent_channels} at {p.samples_per_frame}, {p.sample_rate} Hz"
        )
