"""stable-audio-tools 0.0.19's Oobleck autoencoder (the Stable Audio Open 1.0 VAE) and its
VAE bottleneck: see mir/_vendor/README.md."""

from .autoencoders import OobleckDecoder, OobleckEncoder
from .bottleneck import VAEBottleneck

__all__ = ["OobleckDecoder", "OobleckEncoder", "VAEBottleneck"]
