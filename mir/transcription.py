"""Transcription of stems to MIDI: drums with ADTOF, bass and other with basic-pitch.

Drums go through ADTOF's Frame_RNN (:mod:`mir.adtof`), whose weights are read from
`transcription.model_dir`: five classes (bass drum, snare, tom, hi-hat, cymbal) as General
MIDI drum notes of 100 ms. Pitched stems go through Spotify's basic-pitch 0.4.0, whose
inference and note-creation modules and ONNX model are vendored in `mir/_vendor/basic_pitch`
(its release declares TensorFlow; the ONNX model runs on onnxruntime): basic-pitch's own
windowing, unwrapping and note creation, notes with pitch bends.

Example
-------
>>> model = load_basic_pitch()
>>> result = transcribe_notes(model, y, sr=22050, program=BASS_PROGRAM)
>>> result.write("bass_basic_pitch.mid")
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mir.errors import ModelNotFound

#: the released ADTOF Frame_RNN weights (ADTOF-pytorch) under `transcription.model_dir`
ADTOF_FILE = "adtof_frame_rnn_pytorch_weights.pth"
CONFIG_KEY = "transcription.model_dir"
DRUMS_MIDI = "drums_adtof.mid"
#: ADTOF's classes, in the network's output order, and the General MIDI note of each
DRUM_CLASSES = ("kick", "snare", "tom", "hihat", "cymbal")
DRUM_PITCHES = (35, 38, 47, 42, 49)
DRUM_NOTE_S = 0.1
#: stems transcribed by basic-pitch
PITCHED_STEMS = ("bass", "other")
#: General MIDI programs of the written instruments
BASS_PROGRAM, OTHER_PROGRAM = 33, 4  # Electric Bass (finger), Electric Piano 1
#: basic-pitch's input rate (22.05 kHz)
BASIC_PITCH_SR = 22050

DRUM_KEYS = ["transcription_drums_notes"] + [f"transcription_drums_{c}_notes" for c in DRUM_CLASSES]
PITCH_KEYS = [
    f"transcription_{stem}_{key}"
    for stem in PITCHED_STEMS
    for key in ("notes", "pitch_min", "pitch_max")
]


def pitched_midi(stem: str) -> str:
    """The MIDI file name of a pitched stem, e.g. `bass_basic_pitch.mid`."""
    return f"{stem}_basic_pitch.mid"


@dataclass
class Transcription:
    """The notes of one stem.

    Attributes
    ----------
    midi : pretty_midi.PrettyMIDI
        One instrument (drums: General MIDI channel 10); times in seconds.
    """

    midi: Any

    @property
    def notes(self) -> list:
        """Every note (`start`, `end` in seconds, `pitch` as a MIDI number), by onset."""
        notes = [n for inst in self.midi.instruments for n in inst.notes]
        return sorted(notes, key=lambda n: (n.start, n.pitch))

    def pitch_range(self) -> tuple[int, int] | None:
        """Lowest and highest MIDI note, or None without notes."""
        pitches = [int(n.pitch) for n in self.notes]
        return (min(pitches), max(pitches)) if pitches else None

    def write(self, path: str | os.PathLike) -> Path:
        """Write the standard MIDI file atomically (a reader never sees half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                self.midi.write(f)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def drum_values(result: Transcription) -> dict[str, int]:
    """`transcription_drums_notes` and `transcription_drums_<class>_notes`."""
    pitches = [int(n.pitch) for n in result.notes]
    values = {"transcription_drums_notes": len(pitches)}
    for name, pitch in zip(DRUM_CLASSES, DRUM_PITCHES, strict=True):
        values[f"transcription_drums_{name}_notes"] = pitches.count(pitch)
    return values


def note_values(result: Transcription, stem: str) -> dict[str, int | None]:
    """`transcription_<stem>_notes`, `_pitch_min` and `_pitch_max` (MIDI numbers; None
    without notes)."""
    span = result.pitch_range()
    return {
        f"transcription_{stem}_notes": len(result.notes),
        f"transcription_{stem}_pitch_min": span[0] if span else None,
        f"transcription_{stem}_pitch_max": span[1] if span else None,
    }


# -- drums: ADTOF ------------------------------------------------------------------


def check_adtof_model(folder: str | os.PathLike) -> Path:
    """The ADTOF weights file in `folder`.

    Raises
    ------
    ModelNotFound
        Naming `<folder>/adtof_frame_rnn_pytorch_weights.pth` and `transcription.model_dir`.
    """
    path = Path(folder) / ADTOF_FILE
    if not path.is_file():
        raise ModelNotFound(path, CONFIG_KEY)
    return path


def load_adtof(folder: str | os.PathLike):
    """ADTOF's Frame_RNN with the weights of `folder` (see :func:`mir.adtof.load`).

    Raises
    ------
    ModelNotFound
        When the weights file is not there.
    """
    path = check_adtof_model(folder)
    from mir import adtof

    return adtof.load(path)


def transcribe_drums(
    model, y: np.ndarray, *, sr: int, thresholds: tuple[float, ...] | None = None
) -> Transcription:
    """Drum onsets of a mono signal as a General MIDI drum track.

    Parameters
    ----------
    model : mir.adtof.FrameRNN
        From :func:`load_adtof` (on any device).
    y : np.ndarray
        Mono drums stem; resampled to 44.1 kHz when `sr` differs.
    thresholds : tuple of float, optional
        Peak-picking threshold per class (0..1), default ADTOF's fitted ones.

    Returns
    -------
    Transcription
        Notes of :data:`DRUM_PITCHES` (velocity 100, 100 ms each).
    """
    import pretty_midi

    from mir import adtof
    from mir.audio import resample

    y = resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=adtof.SR)
    activation = adtof.activations(model, adtof.spectrogram(y))
    onsets = adtof.pick_onsets(activation, tuple(thresholds or adtof.THRESHOLDS))
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    for pitch, times in zip(DRUM_PITCHES, onsets, strict=True):
        drums.notes.extend(
            pretty_midi.Note(velocity=100, pitch=pitch, start=float(t), end=float(t) + DRUM_NOTE_S)
            for t in times
        )
    drums.notes.sort(key=lambda n: (n.start, n.pitch))
    midi = pretty_midi.PrettyMIDI()
    midi.instruments.append(drums)
    return Transcription(midi)


# -- pitched stems: basic-pitch ------------------------------------------------------


def basic_pitch_model_path() -> Path:
    """The vendored ONNX model (`mir/_vendor/basic_pitch/saved_models/icassp_2022/nmp.onnx`)."""
    from mir._vendor.basic_pitch import ICASSP_2022_MODEL_PATH

    return ICASSP_2022_MODEL_PATH


def load_basic_pitch(path: str | os.PathLike | None = None):
    """basic-pitch's model (its `Model` class over onnxruntime).

    Raises
    ------
    ModelNotFound
        When the vendored ONNX file is missing (a broken install).
    """
    from mir._vendor.basic_pitch import inference

    path = Path(path) if path else basic_pitch_model_path()
    if not path.is_file():
        raise ModelNotFound(
            path, "mir/_vendor/basic_pitch", hint="reinstall the project: `make setup`"
        )
    return inference.Model(path)


def transcribe_notes(
    model,
    y: np.ndarray,
    *,
    sr: int,
    onset_threshold: float = 0.5,
    frame_threshold: float = 0.3,
    min_note_ms: float = 127.7,
    program: int = OTHER_PROGRAM,
    name: str = "",
    batch: int = 8,
) -> Transcription:
    """Notes of a mono signal with basic-pitch (polyphonic, with pitch bends).

    Parameters
    ----------
    model
        From :func:`load_basic_pitch`.
    y : np.ndarray
        Mono signal; resampled to 22.05 kHz when `sr` differs.
    onset_threshold, frame_threshold : float
        basic-pitch's note-onset and note-frame activation thresholds (0..1).
    min_note_ms : float
        Shorter notes are dropped, in milliseconds.
    program : int
        General MIDI program of the written instrument.
    """
    from mir._vendor.basic_pitch import constants as c
    from mir._vendor.basic_pitch import inference, note_creation
    from mir.audio import resample

    y = resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=BASIC_PITCH_SR)
    # basic-pitch's own windowing: 2 s windows overlapping by 30 frames, half of the
    # overlap padded in front, as its run_inference does for a file
    overlap_frames = 30
    overlap = overlap_frames * c.FFT_HOP
    padded = np.concatenate([np.zeros(overlap // 2, dtype=np.float32), y])
    windows = np.stack(
        [w for w, _ in inference.window_audio_file(padded, c.AUDIO_N_SAMPLES - overlap)]
    )
    outputs: dict[str, list] = {}
    for i in range(0, len(windows), batch):
        for key, value in model.predict(windows[i : i + batch]).items():
            outputs.setdefault(key, []).append(value)
    output = {
        key: inference.unwrap_output(np.concatenate(parts), y.size, overlap_frames)
        for key, parts in outputs.items()
    }
    midi, _ = note_creation.model_output_to_notes(
        output,
        onset_thresh=onset_threshold,
        frame_thresh=frame_threshold,
        min_note_len=int(np.round(min_note_ms / 1000 * (BASIC_PITCH_SR / c.FFT_HOP))),
    )
    for instrument in midi.instruments:
        instrument.program, instrument.name = program, name
    return Transcription(midi)
