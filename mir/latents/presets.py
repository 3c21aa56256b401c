"""The autoencoders a latent corpus can be made with, and their windows (no torch here).

A preset names the model a corpus trains (Stable Audio 3 medium or small, Stable Audio Open
1.0), its autoencoder, the autoencoder's latent shape and rate, and the window length in
latent frames. The window planner (:mod:`mir.dataset.windows`) and the resampler need only
these numbers; :mod:`mir.latents.autoencoders` loads the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

#: window lengths are multiples of this many latent frames (Stable Audio 3's crops)
FRAME_MULTIPLE = 256


@dataclass(frozen=True)
class Preset:
    """One target model and its autoencoder.

    Attributes
    ----------
    name : str
        The `latents.preset` value.
    encoder : str
        The autoencoder: `same-l`, `same-s` or `sao-vae`.
    latent_channels : int
        Channels of a latent frame (256 for SAME, 64 for the SAO 1.0 VAE).
    samples_per_frame : int
        Audio samples per latent frame at `sample_rate` (the downsampling ratio).
    sample_rate : int
        The autoencoder's sample rate, in Hz (stereo input).
    window_frames : int
        The default window length, in latent frames (a multiple of 256).
    max_frames : int
        The longest window the target model trains on, in latent frames.
    seconds_total : str
        What a corpus item's `seconds_total` holds for this model: "window" (the seconds of
        audio in the item: Stable Audio 3 conditions on the length to generate) or "track"
        (the track's duration, with `seconds_start` the window's start: Stable Audio Open
        1.0's timing conditioners, as stable-audio-tools' datasets fill them).
    """

    name: str
    encoder: str
    latent_channels: int
    samples_per_frame: int
    sample_rate: int
    window_frames: int
    max_frames: int
    seconds_total: str

    @property
    def frame_rate(self) -> float:
        """Latent frames per second (10.77 for SAME, 21.53 for the SAO VAE)."""
        return self.sample_rate / self.samples_per_frame

    def window_seconds(self, frames: int | None = None) -> float:
        """Seconds of audio in a window of `frames` latent frames (the default's)."""
        return (frames or self.window_frames) * self.samples_per_frame / self.sample_rate


PRESETS: dict[str, Preset] = {
    # medium: up to 4096 frames (2^24 samples, 380.4 s); 2048-frame windows (190.2 s) hold
    # most songs in one or two windows
    "sa3-medium": Preset("sa3-medium", "same-l", 256, 4096, 44100, 2048, 4096, "window"),
    # small: up to 120 s of audio; 1280 frames (118.9 s) is the longest multiple of 256
    "sa3-small": Preset("sa3-small", "same-s", 256, 4096, 44100, 1024, 1280, "window"),
    # Stable Audio Open 1.0: 2097152-sample training crops (47.6 s, 1024 frames)
    "sao-1.0": Preset("sao-1.0", "sao-vae", 64, 2048, 44100, 1024, 1024, "track"),
}


def preset(name: str) -> Preset:
    """The preset called `name`.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown latents preset {name!r}; known: {', '.join(PRESETS)}") from None


def check_window_frames(p: Preset, frames: int) -> int:
    """`frames` (0: the preset's default), checked: a multiple of 256, at most `max_frames`."""
    frames = frames or p.window_frames
    if frames % FRAME_MULTIPLE or frames <= 0:
        raise ValueError(f"window_frames must be a positive multiple of {FRAME_MULTIPLE}")
    if frames > p.max_frames:
        raise ValueError(f"window_frames {frames} exceeds {p.name}'s {p.max_frames}")
    return frames


def autoencoder_dir(cfg, p: Preset):
    """The folder of a preset's autoencoder files under a `latents:` configuration."""
    return {"same-l": cfg.same_l_dir, "same-s": cfg.same_s_dir, "sao-vae": cfg.sao_vae_dir}[
        p.encoder
    ]
