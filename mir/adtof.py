"""ADTOF's Frame_RNN drum transcription network in PyTorch, its input and its peak picking.

ADTOF (Zehren, Alunno, Bientinesi, ISMIR 2021 and Signals 2023) publishes its networks for
TensorFlow; the weights of its Frame_RNN model trained on all ADTOF data were converted to
a PyTorch state dict by the ADTOF-pytorch project, which is not on PyPI. The network is
written here with the module names of that state dict, so the released file loads with
``strict=True``:

- input: madmom's log-magnitude spectrogram with 12 logarithmic bands per octave between
  20 Hz and 20 kHz (84 bands), 2048-sample frames at 100 frames per second of a 44.1 kHz
  mono signal, exactly as ADTOF computes it (``adtof.io.mir.MIR``);
- two convolution blocks (32 and 64 filters): 3x3 convolution + ReLU + batch norm, twice,
  then max-pooling of 3 frequency bands with Keras "same" padding, then dropout;
- three bidirectional GRU layers of 60 units over the whole track;
- a dense sigmoid layer: one activation per frame for bass drum, snare, tom, hi-hat and
  cymbal;
- onsets: madmom's ``NotePeakPickingProcessor`` per class with ADTOF's fitted thresholds.

Torch is imported here; :mod:`mir.transcription` imports this module only when a model is
loaded.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mir.errors import MirError

SR = 44100
FPS = 100
FRAME_SIZE = 2048
BANDS_PER_OCTAVE, FMIN, FMAX = 12, 20.0, 20000.0
#: General MIDI notes of ADTOF's five classes, in output order:
#: bass drum, snare, (mid) tom, (closed) hi-hat, crash cymbal (cymbals and ride)
LABELS = (35, 38, 47, 42, 49)
#: per-class peak-picking thresholds ADTOF fitted for Frame_RNN on its validation data
THRESHOLDS = (0.22, 0.24, 0.32, 0.22, 0.30)
CONV_FILTERS = (32, 64)
GRU_UNITS = (60, 60, 60)


@lru_cache(maxsize=1)
def _spectrogram_processor():
    from mir._madmom import import_madmom

    import_madmom()
    from madmom.audio.filters import LogarithmicFilterbank
    from madmom.audio.signal import FramedSignalProcessor, SignalProcessor
    from madmom.audio.spectrogram import LogarithmicFilteredSpectrogramProcessor
    from madmom.audio.stft import ShortTimeFourierTransformProcessor
    from madmom.processors import SequentialProcessor

    return SequentialProcessor(
        (
            SignalProcessor(num_channels=1, sample_rate=SR),
            FramedSignalProcessor(frame_size=FRAME_SIZE, fps=FPS),
            ShortTimeFourierTransformProcessor(),
            LogarithmicFilteredSpectrogramProcessor(
                num_channels=1,
                sample_rate=SR,
                filterbank=LogarithmicFilterbank,
                frame_size=FRAME_SIZE,
                fps=FPS,
                num_bands=BANDS_PER_OCTAVE,
                fmin=FMIN,
                fmax=FMAX,
                norm_filters=True,
            ),
        )
    )


def spectrogram(y: np.ndarray) -> np.ndarray:
    """The network's input: (frames, 84) float32, log10(1 + filtered magnitude), 100 fps.

    Parameters
    ----------
    y : np.ndarray
        Mono signal at 44.1 kHz, float in [-1, 1] (what madmom sees in 16-bit audio).
    """
    y = np.ascontiguousarray(y, dtype=np.float32)
    return np.asarray(_spectrogram_processor()(y), dtype=np.float32)


def n_bins() -> int:
    """Bands of :func:`spectrogram` (84)."""
    return int(spectrogram(np.zeros(FRAME_SIZE, dtype=np.float32)).shape[1])


class SamePadMaxPool(nn.Module):
    """Max over `size` frequency bands with stride `size`, padded like Keras "same": the
    padding goes to both sides (the larger half on the right) and never wins a maximum."""

    def __init__(self, size: int = 3):
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bands = x.shape[-1]
        out = -(-bands // self.size)
        pad = max(0, (out - 1) * self.size + self.size - bands)
        if pad:
            x = F.pad(x, (pad // 2, pad - pad // 2), value=float("-inf"))
        return F.max_pool2d(x, kernel_size=(1, self.size), stride=(1, self.size))


def _conv_block(in_channels: int, filters: int) -> nn.Sequential:
    # Keras: Conv2D(relu, same) -> BatchNorm -> Conv2D(relu, same) -> BatchNorm -> MaxPool
    # (1, 3) same -> Dropout; the indices (convs 0 and 3, norms 2 and 5) are the state-dict names
    return nn.Sequential(
        nn.Conv2d(in_channels, filters, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(filters, eps=1e-3),
        nn.Conv2d(filters, filters, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(filters, eps=1e-3),
        SamePadMaxPool(3),
        nn.Dropout2d(0.3),
    )


class FrameRNN(nn.Module):
    """ADTOF's Frame_RNN: conv blocks, bidirectional GRUs, one sigmoid per drum class.

    Parameters
    ----------
    n_bins : int
        Frequency bands of the input spectrogram (84).
    conv_filters, gru_units : tuple of int
        Filters per conv block, units per GRU layer (each direction).
    n_classes : int
        Output classes (5: :data:`LABELS`).
    """

    def __init__(
        self,
        n_bins: int = 84,
        conv_filters: tuple[int, ...] = CONV_FILTERS,
        gru_units: tuple[int, ...] = GRU_UNITS,
        n_classes: int = len(LABELS),
    ):
        super().__init__()
        self.n_bins = int(n_bins)
        self.conv_filters = tuple(int(f) for f in conv_filters)
        self.gru_units = tuple(int(u) for u in gru_units)
        self.n_classes = int(n_classes)
        channels = (1, *self.conv_filters)
        self.cnn_blocks = nn.ModuleList(
            _conv_block(channels[i], channels[i + 1]) for i in range(len(self.conv_filters))
        )
        bands = self.n_bins
        for _ in self.conv_filters:
            bands = -(-bands // 3)
        sizes = (bands * self.conv_filters[-1], *(2 * u for u in self.gru_units))
        self.gru_layers = nn.ModuleList(
            nn.GRU(sizes[i], units, batch_first=True, bidirectional=True)
            for i, units in enumerate(self.gru_units)
        )
        self.output_layer = nn.Linear(2 * self.gru_units[-1], self.n_classes)

    def cnn(self, spec: torch.Tensor, *, chunk_frames: int = 4000) -> torch.Tensor:
        """(batch, frames, bins) -> (batch, frames, features), features ordered as Keras
        flattens channels-last maps. Long inputs go through in chunks that overlap by the
        receptive field, which gives the same result with bounded memory."""
        frames = spec.shape[1]
        if frames <= chunk_frames:
            return self._cnn(spec)
        halo = 2 * len(self.conv_filters)  # frames each side that the 3x3 convolutions see
        parts = []
        for start in range(0, frames, chunk_frames):
            lo, hi = max(0, start - halo), min(frames, start + chunk_frames + halo)
            out = self._cnn(spec[:, lo:hi])
            parts.append(out[:, start - lo : start - lo + min(chunk_frames, frames - start)])
        return torch.cat(parts, dim=1)

    def _cnn(self, spec: torch.Tensor) -> torch.Tensor:
        x = spec.unsqueeze(1)
        for block in self.cnn_blocks:
            x = block(x)
        return x.permute(0, 2, 3, 1).flatten(2)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """(batch, frames, bins) spectrogram -> (batch, frames, classes) activations in 0..1."""
        x = self.cnn(spec)
        for gru in self.gru_layers:
            x, _ = gru(x)
        return torch.sigmoid(self.output_layer(x))

    def info(self) -> dict:
        """The `model_info` entry of the released checkpoint format."""
        return {
            "architecture": "Frame_RNN",
            "n_bins": self.n_bins,
            "conv_filters": list(self.conv_filters),
            "gru_units": list(self.gru_units),
            "output_classes": self.n_classes,
        }


def load(path: str | Path) -> FrameRNN:
    """Load a Frame_RNN checkpoint in ADTOF-pytorch's format: a dict holding the state dict
    (float64 tensors) under `model_weights` and the architecture under `model_info` (a
    bare state dict is accepted too). Every weight must match (``strict=True``).

    Raises
    ------
    MirError
        When the file is not such a checkpoint or its weights do not fit the network.
    """
    path = Path(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise MirError(f"{path}: not a PyTorch checkpoint ({exc})") from None
    if not isinstance(checkpoint, dict):
        raise MirError(f"{path}: not an ADTOF Frame_RNN checkpoint")
    weights = checkpoint.get("model_weights", checkpoint)
    info = checkpoint.get("model_info") or {}
    model = FrameRNN(
        n_bins=int(info.get("n_bins", 84)),
        conv_filters=tuple(info.get("conv_filters", CONV_FILTERS)),
        gru_units=tuple(info.get("gru_units", GRU_UNITS)),
        n_classes=int(info.get("output_classes", len(LABELS))),
    )
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise MirError(f"{path}: weights do not fit ADTOF's Frame_RNN: {exc}") from None
    return model.float().eval()


def save(model: FrameRNN, path: str | Path) -> Path:
    """Save `model` the way the released weights are stored (what :func:`load` reads):
    float64 tensors without batch-norm counters under `model_weights`, and `model_info`.
    Used to make random-weight checkpoints of the real architecture for tests."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = {
        k: v.detach().to(torch.float64)
        for k, v in model.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }
    info = {**model.info(), "conversion_note": "random weights in the released format"}
    torch.save({"model_weights": weights, "model_info": info}, path)
    return path


def activations(model: FrameRNN, spec: np.ndarray) -> np.ndarray:
    """(frames, classes) float32 activations of a (frames, bins) spectrogram."""
    if spec.ndim != 2 or spec.shape[1] != model.n_bins:
        raise ValueError(f"expected a (frames, {model.n_bins}) spectrogram, got {spec.shape}")
    device = next(model.parameters()).device
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(spec, dtype=np.float32)).to(device)
        return model(x.unsqueeze(0))[0].float().cpu().numpy()


def pick_onsets(
    activation: np.ndarray, thresholds: tuple[float, ...] = THRESHOLDS, *, fps: int = FPS
) -> list[np.ndarray]:
    """Onset times in seconds of each class: madmom's note peak picking with ADTOF's settings
    (no smoothing, 100 ms/10 ms moving average, 20 ms/10 ms local maximum, peaks within 20 ms
    combined)."""
    from mir._madmom import import_madmom

    import_madmom()
    from madmom.features.notes import NotePeakPickingProcessor

    onsets = []
    for i, threshold in enumerate(thresholds):
        picker = NotePeakPickingProcessor(
            threshold=float(threshold),
            smooth=0,
            pre_avg=0.1,
            post_avg=0.01,
            pre_max=0.02,
            post_max=0.01,
            combine=0.02,
            fps=fps,
        )
        notes = np.asarray(picker.process(activation[:, i].reshape(-1, 1)), dtype=np.float64)
        onsets.append(notes.reshape(-1, 2)[:, 0] if notes.size else np.zeros(0))
    return onsets


# -- signature (`mir models verify`) --------------------------------------------------


def weights_problems(path: Path) -> list[str]:
    """How a file differs from ADTOF-pytorch's Frame_RNN weights (what :func:`load` reads):
    the state dict's keys and shapes against the network its `model_info` describes."""
    from mir.signatures import state_problems, state_summary

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a file that is not a checkpoint
        return [f"not a torch checkpoint ({type(exc).__name__}: {exc})"]
    if not isinstance(checkpoint, dict):
        return [f"a {type(checkpoint).__name__}, not a checkpoint dict"]
    weights = checkpoint.get("model_weights", checkpoint)
    info = checkpoint.get("model_info") or {}
    model = FrameRNN(
        n_bins=int(info.get("n_bins", 84)),
        conv_filters=tuple(info.get("conv_filters", CONV_FILTERS)),
        gru_units=tuple(info.get("gru_units", GRU_UNITS)),
        n_classes=int(info.get("output_classes", len(LABELS))),
    )
    return state_problems(state_summary(weights), state_summary(model.state_dict()))
