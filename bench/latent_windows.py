"""The model-free part of the latent corpus: what it adds per minute of audio, and how it
grows with the duration.

For a full-length track of /tmp/mir-real-music and for 1, 4 and 16 minutes made by
concatenating its first minute, in one process:

- peer: the whole-track series as they were (`track_timeseries`: the mix's 12 fields);
- series: every series (`complete_track_series`: the peer's, the crops' beat, downbeat and
  onset activations, the tonic, four stems' RMS and onsets, f0 of two stems, the chord
  index). The real music has no stems (no separation model here): each stem is the mix,
  which costs what a stem costs; a 120 BPM grid stands in for the beat tracker's;
- windows: the window plan on the track's downbeats (a 2 s bar grid stands in);
- pooling: every field pooled to the frames of every window (SA3 medium, 2048 frames);
- crops' activations: the part of `series` that gives the whole track the crops' beat,
  downbeat and onset activations, timed alone.

Prints seconds per minute of audio for each part and the ratio series / peer.
Usage: python bench/latent_windows.py [TRACK]
"""

from __future__ import annotations

import glob
import sys
import time

import numpy as np

from mir.audio import load_audio
from mir.dataset.resample import TrackSeries
from mir.dataset.timeseries import (
    complete_track_series,
    grid_activations,
    onsets_activations,
    track_timeseries,
)
from mir.dataset.windows import plan_windows
from mir.latents.presets import PRESETS

SR = 44100


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def measure(y: np.ndarray, label: str) -> None:
    minutes = y.size / SR / 60
    stems = {name: y for name in ("drums", "bass", "other", "vocals")}
    duration = y.size / SR
    chords = [(t, min(t + 2.0, duration), "A:min") for t in np.arange(0, duration, 2.0)]
    beats = np.arange(0.5, duration, 0.5)  # a 120 BPM grid stands in for the tracker's
    _, peer = timed(lambda: track_timeseries(y))
    (series, rates), full = timed(
        lambda: complete_track_series(
            y, stems=stems, chords=chords, beats=beats, downbeats=beats[::4]
        )
    )
    p = PRESETS["sa3-medium"]
    n = y.size  # 44.1 kHz: the preset's rate
    windows, plan = timed(
        lambda: plan_windows(
            n,
            sample_rate=SR,
            n_frames=p.window_frames,
            samples_per_frame=p.samples_per_frame,
            downbeats_s=np.arange(0.5, duration, 2.0),
        )
    )

    def pool():
        ts = TrackSeries(series, rates)
        return [ts.pool(w.start_s, w.frame_s, w.n_frames) for w in windows]

    _, pooling = timed(pool)
    # what the crops' series add to the whole track's: their beat and downbeat bumps on the
    # grid and the onset envelope scaled to peak 1 (inside `series` above)
    n_frames = series["onset_envelope_ts"].shape[0]
    _, crops_part = timed(
        lambda: (
            grid_activations(beats, beats[::4], n_frames=n_frames),
            onsets_activations(series["onset_envelope_ts"]),
        )
    )
    print(
        f"{label:>28}  {minutes:6.2f} min  peer {peer / minutes:6.3f} s/min  "
        f"series {full / minutes:6.3f} s/min  windows {plan / minutes * 1000:7.3f} ms/min  "
        f"pooling {pooling / minutes * 1000:7.2f} ms/min ({len(windows)} windows)  "
        f"crops' activations {crops_part / minutes * 1000:6.2f} ms/min  "
        f"model-free total {(full + plan + pooling) / minutes:6.3f} s/min  "
        f"series/peer {full / peer:5.2f}x",
        flush=True,
    )


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else sorted(glob.glob("/tmp/mir-real-music/*/*.ogg"))[0]
    y = load_audio(path).mono(SR)
    print(f"{path}: {y.size / SR / 60:.2f} min, one process, numbers per minute of audio")
    measure(y, "full-length track")
    minute = y[: 60 * SR]
    for k in (1, 4, 16):
        measure(np.tile(minute, k), f"first minute x {k}")


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
