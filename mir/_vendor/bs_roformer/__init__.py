"""BS-RoFormer (band-split RoPE transformer), as audio-separator 0.47.1 ships it."""

from .bs_roformer import BSRoformer

__all__ = ["BSRoformer"]
