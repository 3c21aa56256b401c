"""Chord recognition and the statistics of a chord sequence.

madmom's trained major/minor chord recognisers (Korzeniowski & Widmer, 2016) label a
track at 10 frames per second with one of 24 chords (`"C:maj"`, `"A:min"`, ... with
madmom's sharps, `"C#:maj"`) or `"N"` (no chord), decoded by a conditional random field
into segments `(start_s, end_s, label)`:

- ``"cnn"`` (the default): a fully convolutional network (Korzeniowski & Widmer, MLSP
  2016) and its CRF. The more accurate on our rendered progressions (weighted root
  accuracy 0.97 on average over 12 voicings, never below 0.92) and the more robust to
  the register of the chords. madmom's own layers call ``scipy.ndimage`` once per pair of
  input and output feature maps (17,440 calls per block, about 19 s per minute of audio
  on one core); we run the same network in PyTorch (:class:`mir._madmom.TorchNetwork`): the same
  features within float32 rounding, the same chords, about 0.35 s per minute on one
  busy core (spectrogram 0.07, network 0.27, CRF 0.01; 0.24 s of CPU), 55 times madmom's
  chain on two 5-6 minute tracks (``bench/chords.py``), the cost linear in the duration.
- ``"deepchroma"``: a deep chroma network (15 spectrogram frames in, 12 chroma bins
  out) and its CRF (ISMIR 2016). About 0.1 s per minute, but it reads some voicings
  wrongly (0.92 on average, 0.70 at worst: with the triads around C4 and the bass around
  C3 it hears A minor as F major).

Both read the track's 44.1 kHz mono. The input spectrogram (8192-sample frames) and the
network run in blocks of :data:`BLOCK_S`, each with the context its frames need, so the
labels are those of one piece, memory does not grow with an hour's STFT or network
activations, and the cost grows linearly with the duration.

The `.CHORDS` file of a track holds one segment per line, ``start<TAB>end<TAB>label``,
times in seconds with six decimals, in time order (:func:`write_chords`).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mir.audio import Audio
from mir.errors import AudioError

#: madmom's chord models read 44.1 kHz audio
MADMOM_SR = 44100
#: frames per second of the chord models' features and of the decoded labels
FPS = 10
#: the label of a stretch without a chord
NO_CHORD = "N"
#: seconds of audio whose input spectrogram is computed at once (the result is the same)
BLOCK_S = 60.0
#: chords named in `chord_top`
TOP_N = 3
#: chords in a `chord_progression`
PROGRESSION_LENGTH = 4
MODELS = ("cnn", "deepchroma")

_FRAME_SIZE = 8192  # both models' STFT frame
_HOP = MADMOM_SR // FPS
#: spectrogram frames either side of a block that its network outputs read
_CONTEXT = 16

_processors: dict = {}
_processors_lock = threading.Lock()


class Chord(NamedTuple):
    """One chord segment: `start_s` to `end_s` (seconds) labelled `label`."""

    start_s: float
    end_s: float
    label: str


def _processor(name: str, factory):
    """One instance per process of each madmom processor (loading the models once)."""
    with _processors_lock:
        if name not in _processors:
            _processors[name] = factory()
        return _processors[name]


def _models(model: str):
    """(features processor, CRF decoder) of `model`, loaded once per process."""
    from mir._madmom import import_madmom

    madmom = import_madmom()
    if model == "deepchroma":
        from madmom.audio.chroma import DeepChromaProcessor

        features = _processor("deepchroma", DeepChromaProcessor)
        decoder = _processor(
            "deepchroma_crf", madmom.features.chords.DeepChromaChordRecognitionProcessor
        )
    elif model == "cnn":
        features = _processor("cnn", madmom.features.chords.CNNChordFeatureProcessor)
        decoder = _processor("cnn_crf", madmom.features.chords.CRFChordRecognitionProcessor)
    else:
        raise ValueError(f"unknown chord model {model!r}; choose one of {MODELS}")
    return features, decoder


def _spectrogram(features, y: np.ndarray) -> np.ndarray:
    """The model's log-filtered spectrogram of `y`, frame by frame as madmom frames the
    whole signal (8192 samples centred on every 4410th), computed :data:`BLOCK_S` at a
    time: each block is read with the half frame before it that its first frame covers."""
    from madmom.audio.signal import FramedSignal, Signal

    # the processors after the signal: framing (its settings), STFT, filtered spectrogram
    _, framing, stft, spec = features.processors[:4]
    if framing.frame_size != _FRAME_SIZE or framing.fps != FPS:
        raise ValueError(f"unexpected chord model framing: {vars(framing)}")
    n_frames = int(np.ceil(y.size / _HOP))
    block = int(BLOCK_S * FPS)
    half = _FRAME_SIZE // 2
    parts = []
    for f0 in range(0, n_frames, block):
        f1 = min(f0 + block, n_frames)
        # samples [f0 * hop - half, (f1 - 1) * hop + half) hold every frame of the block
        lo = max(f0 * _HOP - half, 0)
        part = Signal(y[lo : f1 * _HOP + half], sample_rate=MADMOM_SR, num_channels=1)
        frames = FramedSignal(
            part,
            frame_size=_FRAME_SIZE,
            fps=FPS,
            # frame 0 centred on sample f0 * hop of `y`, i.e. (f0 * hop - lo) of `part`
            origin=-(f0 * _HOP - lo),
            num_frames=f1 - f0,
        )
        # a copy: madmom's spectrogram keeps its STFT alive through its attributes
        parts.append(np.array(spec(stft(frames)), dtype=np.float32))
    return np.concatenate(parts)


def _stages(model: str, features) -> list:
    """What runs after the spectrogram: madmom's processors, except the CNN's network,
    which runs in torch (the same outputs, about 55 times faster)."""
    from madmom.ml.nn import NeuralNetwork

    from mir._madmom import TorchNetwork

    stages = list(features.processors[4:])
    if model == "cnn":
        for i, stage in enumerate(stages):
            if isinstance(stage, NeuralNetwork):
                stages[i] = _processor("cnn_torch", lambda net=stage: TorchNetwork(net.layers))
    return stages


def _network(spec: np.ndarray, stages) -> np.ndarray:
    """The network `stages` on a spectrogram, :data:`BLOCK_S` of frames at a time, each block
    with :data:`_CONTEXT` frames of the spectrogram on either side (more than any output
    frame reads: 7 for deep chroma, 11 for the CNN), so the result is the one-piece one."""
    block = int(BLOCK_S * FPS)
    parts = []
    for f0 in range(0, len(spec), block):
        f1 = min(f0 + block, len(spec))
        lo, hi = max(f0 - _CONTEXT, 0), min(f1 + _CONTEXT, len(spec))
        out = spec[lo:hi]
        for stage in stages:
            out = stage(out)
        parts.append(np.asarray(out)[f0 - lo : f1 - lo])
    return np.concatenate(parts)


def recognize_chords(audio: Audio, *, model: str = "cnn") -> list[Chord]:
    """Major/minor chords of a track with madmom's chord recogniser.

    Parameters
    ----------
    audio : Audio
        The decoded track; its 44.1 kHz mono view (shared with the other features) is
        what the model reads.
    model : {"cnn", "deepchroma"}
        CNN features + CRF (the default, the more accurate) or deep chroma + CRF (about
        three times faster); see the module docstring.

    Returns
    -------
    list of Chord
        `(start_s, end_s, label)` segments covering the track without gaps, in time
        order, consecutive labels distinct; labels are madmom's (`"C:maj"`, `"F#:min"`,
        `"N"` for no chord). The last segment ends at the track's duration.

    Raises
    ------
    AudioError
        If the track has no samples.

    Examples
    --------
    >>> recognize_chords(load_audio("song.flac"))[:2]  # doctest: +SKIP
    [Chord(start_s=0.0, end_s=0.4, label='N'), Chord(start_s=0.4, end_s=2.1, label='C:maj')]
    """
    features, decoder = _models(model)
    y = audio.mono(MADMOM_SR)
    if y.size == 0:
        raise AudioError(audio.path or "<signal>", "no samples to recognise chords in")
    segments = decoder(_network(_spectrogram(features, y), _stages(model, features)))
    duration = y.size / MADMOM_SR
    chords = []
    for start, end, label in segments:
        start, end = round(float(start), 6), round(min(float(end), duration), 6)
        if start < end:
            chords.append(Chord(start, end, str(label)))
    if chords:  # the last frame reaches past the end: the last chord ends with the track
        chords[-1] = chords[-1]._replace(end_s=round(duration, 6))
    return chords


#: the shortest audio whose chords the key reads (s): the recogniser's 8192-sample frame
CHORDS_MIN_S = 0.5


def chords_of(audio: Audio, *, model: str = "cnn") -> list[Chord]:
    """:func:`recognize_chords` of a track, once per track and model: the `chords`
    family and the key (its tonic chord) read the same segments."""
    return audio.cached(("chords", model), lambda: recognize_chords(audio, model=model))


# -- statistics of a chord sequence ------------------------------------------------


def _sequence(segments) -> list[str]:
    """The chords in time order, no-chord stretches dropped and repeats merged."""
    labels = [Chord(*s).label for s in segments if Chord(*s).label != NO_CHORD]
    return [label for i, label in enumerate(labels) if i == 0 or label != labels[i - 1]]


def _most_common_progression(sequence: list[str]) -> str:
    n = PROGRESSION_LENGTH
    if len(sequence) <= n:
        return "-".join(sequence)
    windows = [tuple(sequence[i : i + n]) for i in range(len(sequence) - n + 1)]
    counts = Counter(windows)
    # ties go to the progression heard first (Counter keeps first-seen order)
    return "-".join(max(counts, key=counts.__getitem__))


def chord_features(segments, duration_s: float) -> dict:
    """Statistics of a chord sequence.

    Parameters
    ----------
    segments : sequence of (start_s, end_s, label)
        As :func:`recognize_chords` returns or :func:`read_chords` reads.
    duration_s : float
        Seconds of audio the segments describe (the rate's denominator).

    Returns
    -------
    dict
        - `chord_count` (int, >= 0): segments with a chord (not `"N"`).
        - `chord_change_rate` (float, changes per minute): changes from one chord to a
          different one (no-chord stretches in between are skipped), per minute of
          `duration_s`; 0 for an empty duration.
        - `chord_top` (str): up to :data:`TOP_N` chords by total duration, longest first,
          `", "`-joined (`"C:maj, A:min, F:maj"`); `""` without chords.
        - `chord_progression` (str): the most frequent run of :data:`PROGRESSION_LENGTH`
          consecutive distinct chords, `"-"`-joined (`"C:maj-G:maj-A:min-F:maj"`), ties
          to the one heard first; the whole sequence when it is shorter; `""` without
          chords.

    Examples
    --------
    >>> chord_features([(0, 2, "C:maj"), (2, 4, "G:maj"), (4, 6, "A:min"), (6, 8, "F:maj"),
    ...                 (8, 10, "C:maj")], 10.0)["chord_change_rate"]
    24.0
    """
    chords = [Chord(float(s), float(e), str(label)) for s, e, label in segments]
    sequence = _sequence(chords)
    held: Counter = Counter()
    for c in chords:
        if c.label != NO_CHORD:
            held[c.label] += c.end_s - c.start_s
    changes = max(len(sequence) - 1, 0)
    return {
        "chord_count": sum(1 for c in chords if c.label != NO_CHORD),
        "chord_change_rate": round(changes * 60.0 / duration_s, 3) if duration_s > 0 else 0.0,
        "chord_top": ", ".join(label for label, _ in held.most_common(TOP_N)),
        "chord_progression": _most_common_progression(sequence),
    }


def clipped_chords(segments, start_s: float, end_s: float) -> list[Chord]:
    """The segments that overlap the part of a track from `start_s` to `end_s` (s),
    clipped to it, their times from its start."""
    clipped = []
    for s, e, label in segments:
        lo, hi = max(float(s), start_s), min(float(e), end_s)
        if lo < hi:
            clipped.append(Chord(lo - start_s, hi - start_s, str(label)))
    return clipped


def crop_chords(segments, start_s: float, end_s: float) -> dict:
    """:func:`chord_features` of the part of a track from `start_s` to `end_s` (s): the
    segments that overlap it, clipped to it."""
    return chord_features(clipped_chords(segments, start_s, end_s), end_s - start_s)


# -- the .CHORDS file -------------------------------------------------------------------


def write_chords(path: str | os.PathLike, segments) -> Path:
    """Write segments to a `.CHORDS` file atomically: one per line,
    ``start<TAB>end<TAB>label``, times in seconds with six decimals."""
    from mir.info import _atomic_write_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"{float(s):.6f}\t{float(e):.6f}\t{label}\n" for s, e, label in segments)
    _atomic_write_text(path, lines)
    return path


def read_chords(path: str | os.PathLike, *, written_by: str | None = None) -> list[Chord]:
    """Read a `.CHORDS` file (tab- or space-separated).

    Raises
    ------
    MissingInput
        If the file does not exist and `written_by` names the asset that writes it;
        without `written_by`, a missing file reads as no segments.
    ValueError
        A line that is not ``start end label``.
    """
    from mir.info import read_sidecar_text

    path = Path(path)
    text = read_sidecar_text(path, written_by=written_by)
    if text is None:
        return []
    chords = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 3:
            raise ValueError(f"{path}, line {number}: expected 'start end label', got {line!r}")
        chords.append(Chord(float(fields[0]), float(fields[1]), fields[2]))
    return chords
