"""Latents: the autoencoders a corpus is encoded with (:mod:`mir.latents.presets` without
torch; :mod:`mir.latents.autoencoders` loads and runs them; :mod:`mir.latents.same` is the
SAME architecture)."""
