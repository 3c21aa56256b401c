"""Beat tracking: one network per track (ours) against the original's two, in one run.

The original pipeline ran madmom's beat network (RNNBeatProcessor + DBNBeatTracking) for
the beats and then the downbeat network (RNNDownBeatProcessor + DBNDownBeatTracking) for
the bars. `mir.beats.track_beats` runs only the downbeat network and decodes beats and
bar positions together. This prints beat and downbeat F-measures (70 ms window) on
rendered songs with known beats, the tempo error on the real dev clips when their folder is
given, and the time ratio.

    python bench/beats.py [--clips ../shared/data/dev-clips]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from mir._madmom import import_madmom
from mir.audio import load_audio
from mir.beats import beat_statistics, track_beats
from mir.synth import render_song

madmom = import_madmom()
from madmom.audio.signal import Signal  # noqa: E402
from madmom.evaluation.beats import BeatEvaluation  # noqa: E402

SR = 44100
SONGS = [
    (128, 4, "A", "minor"),
    (100, 4, "D", "major"),
    (84, 3, "F", "major"),
    (140, 4, "E", "minor"),
    (92, 3, "G", "major"),
    (174, 4, "C", "minor"),
    (70, 4, "B", "minor"),
    (118, 3, "D", "minor"),
]
CLIPS = {  # dev clips with a published tempo
    "ballroom_waltz_Media-105901.flac": 84.0,
    "gtzan_country.00000.flac": 85.53,
    "hainsworth_hains001.flac": 100.16,
    "cuidado_FallaCancion.flac": 191.27,
    "simac_mikri_Rallou.flac": 74.34,
}


def original_two_networks(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sig = Signal(y, sample_rate=SR, num_channels=1)
    beat_act = madmom.features.beats.RNNBeatProcessor()(sig)
    beats = madmom.features.beats.DBNBeatTrackingProcessor(fps=100)(beat_act)
    down_act = madmom.features.downbeats.RNNDownBeatProcessor()(sig)
    bars = madmom.features.downbeats.DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=100)(
        down_act
    )
    return np.asarray(beats), bars[bars[:, 1] == 1, 0]


def ours_one_network(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    grid = track_beats(y, sr=SR)
    return grid.beats, grid.downbeats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--clips", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/dev-clips"
    )
    args = parser.parse_args()
    peers = {"original (2 networks)": original_two_networks, "ours (1 network)": ours_one_network}
    ours_one_network(np.zeros(SR))  # warm up both (model loading is not what we time)
    original_two_networks(np.random.default_rng(0).standard_normal(SR) * 0.01)
    scores = {
        name: {"beat_f": [], "down_f": [], "seconds": 0.0, "audio_s": 0.0, "tempo_err": []}
        for name in peers
    }
    for i, (bpm, bpb, tonic, scale) in enumerate(SONGS):
        song = render_song(bpm=bpm, beats_per_bar=bpb, tonic=tonic, scale=scale, bars=12, seed=i)
        y = song.mix.mean(axis=1)
        for name, fn in peers.items():
            t0 = time.perf_counter()
            beats, downbeats = fn(y)
            scores[name]["seconds"] += time.perf_counter() - t0
            scores[name]["audio_s"] += y.size / SR
            scores[name]["beat_f"].append(BeatEvaluation(beats, song.beats).fmeasure)
            scores[name]["down_f"].append(BeatEvaluation(downbeats, song.downbeats).fmeasure)
    if args.clips.is_dir():
        for clip, true_bpm in CLIPS.items():
            path = args.clips / clip
            if not path.exists():
                continue
            audio = load_audio(path)
            y = audio.mono(SR)
            for name, fn in peers.items():
                t0 = time.perf_counter()
                beats, _ = fn(y)
                scores[name]["seconds"] += time.perf_counter() - t0
                scores[name]["audio_s"] += y.size / SR
                bpm = beat_statistics(beats, duration_s=audio.duration_s)["bpm"]
                # tempo octave errors count as right (the usual "accuracy 2")
                err = min(abs(bpm * k - true_bpm) / true_bpm for k in (0.5, 1, 2))
                scores[name]["tempo_err"].append(err)
    print(f"{'peer':<24} {'beat F':>7} {'downbeat F':>10} {'tempo ok (4%)':>13} {'x realtime':>10}")
    for name, s in scores.items():
        ok = np.mean([e < 0.04 for e in s["tempo_err"]]) if s["tempo_err"] else float("nan")
        print(
            f"{name:<24} {np.mean(s['beat_f']):>7.3f} {np.mean(s['down_f']):>10.3f} "
            f"{ok:>13.2f} {s['audio_s'] / s['seconds']:>10.1f}"
        )
    a, b = scores["original (2 networks)"]["seconds"], scores["ours (1 network)"]["seconds"]
    print(f"speed-up of ours over the original: {a / b:.2f}x")


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
