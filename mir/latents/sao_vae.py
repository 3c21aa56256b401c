"""Stable Audio Open 1.0's VAE as one module: stable-audio-tools' Oobleck encoder and
decoder (vendored, mir/_vendor/stable_audio_tools) around its VAE bottleneck."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from mir._vendor.stable_audio_tools import OobleckDecoder, OobleckEncoder


class OobleckVAE(nn.Module):
    """Built from the `model` section of a stable-audio-tools autoencoder config
    (`vae_config.json`); the state dict's names are those of its unwrapped checkpoint
    (`encoder.…`, `decoder.…`)."""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        for part in ("encoder", "decoder"):
            if cfg[part]["type"] != "oobleck":
                raise ValueError(f"{part} type {cfg[part]['type']!r}: only oobleck is vendored")
        if cfg.get("bottleneck", {}).get("type") != "vae":
            raise ValueError("only the vae bottleneck is vendored")
        self.latent_dim = int(cfg["latent_dim"])
        self.downsampling_ratio = int(cfg["downsampling_ratio"])
        self.io_channels = int(cfg.get("io_channels", 2))
        with warnings.catch_warnings():  # torch's deprecation of the weight_norm it uses
            warnings.simplefilter("ignore", FutureWarning)
            self.encoder = OobleckEncoder(**cfg["encoder"]["config"])
            self.decoder = OobleckDecoder(**cfg["decoder"]["config"])

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, 2, samples) -> (batch, latent_dim, samples / downsampling_ratio): the
        posterior mean, so that encoding is deterministic (stable-audio-tools' pre_encode.py
        draws a sample around it with the std the encoder also predicts)."""
        mean, _scale = self.encoder(audio).chunk(2, dim=1)
        return mean

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.decoder(latents)
