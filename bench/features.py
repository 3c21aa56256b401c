"""The whole feature set against Essentia's MusicExtractor, on the same files, in one run.

Prints, on one core: our time per feature family (slowest first) with its realtime
factor, the model-free families together against MusicExtractor (the ratio ours /
MusicExtractor), the neural stage (madmom beats + tempo) and the timbral family on their
own, and the tempo accuracy of `bpm`, `bpm_madmom` and `bpm_essentia` on the dev clips
with published tempi (within 4 %, and with octave errors forgiven).

    python bench/features.py [--clips ../shared/data/dev-clips] [--songs 4]
"""

from __future__ import annotations

import os

# one core, for us and for the peer alike
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from mir import analysis  # noqa: E402
from mir.audio import load_audio  # noqa: E402
from mir.config import MasterConfig  # noqa: E402
from mir.synth import render_song  # noqa: E402

TEMPO_TRUTH = {
    "ballroom_waltz_Media-105901.flac": 84.0,
    "gtzan_country.00000.flac": 85.53,
    "hainsworth_hains001.flac": 100.16,
    "cuidado_FallaCancion.flac": 191.27,
    "simac_mikri_Rallou.flac": 74.34,
}
NEURAL = {"beat_grid"}
TIMBRAL = {"timbral_features"}


def files_to_measure(clips: Path, n_songs: int, tmp: Path) -> list[Path]:
    files = [clips / name for name in TEMPO_TRUTH if (clips / name).exists()]
    for i, (bpm, tonic) in enumerate([(128, "A"), (96, "D"), (140, "E"), (110, "G")][:n_songs]):
        song = render_song(bpm=bpm, tonic=tonic, bars=16, seed=i)
        path = tmp / f"song_{i}.flac"
        sf.write(str(path), song.mix, song.sr)
        files.append(path)
    return files


def run_ours(path: Path, cfg: MasterConfig, seconds: dict[str, float]) -> dict:
    t0 = time.perf_counter()
    audio = load_audio(path)
    seconds["decode"] += time.perf_counter() - t0
    result = analysis.analyze_track(audio, cfg)
    for family, s in result.seconds.items():
        seconds[family] += s
    return result.values


def run_music_extractor(path: Path) -> float:
    import essentia.standard as es

    t0 = time.perf_counter()
    es.MusicExtractor(
        lowlevelStats=["mean", "stdev"], rhythmStats=["mean", "stdev"], tonalStats=["mean", "stdev"]
    )(str(path))
    return time.perf_counter() - t0


def main() -> None:
    import essentia

    essentia.log.infoActive = False
    essentia.log.warningActive = False
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--clips", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/dev-clips"
    )
    parser.add_argument("--songs", type=int, default=4)
    args = parser.parse_args()
    cfg = MasterConfig()
    with tempfile.TemporaryDirectory() as tmp:
        files = files_to_measure(args.clips, args.songs, Path(tmp))
        # warm-up: model loading, numba compilation and first-call costs are not what we time
        run_ours(files[-1], cfg, defaultdict(float))
        run_music_extractor(files[-1])
        ours: dict[str, float] = defaultdict(float)
        peer = 0.0
        audio_s = 0.0
        tempo: dict[str, list[float]] = defaultdict(list)
        for path in files:
            audio_s += sf.info(str(path)).duration
            values = run_ours(path, cfg, ours)
            peer += run_music_extractor(path)
            truth = TEMPO_TRUTH.get(path.name)
            if truth:
                for key in ("bpm", "bpm_madmom", "bpm_essentia"):
                    tempo[key].append(values[key] / truth)
    print(f"{len(files)} files, {audio_s:.0f} s of audio, one core\n")
    print(f"{'family':<20} {'seconds':>8} {'x realtime':>11}")
    for family, s in sorted(ours.items(), key=lambda kv: -kv[1]):
        tag = " (neural)" if family in NEURAL else " (timbral)" if family in TIMBRAL else ""
        print(f"{family + tag:<20} {s:>8.2f} {audio_s / s:>11.1f}")
    model_free = sum(s for f, s in ours.items() if f not in NEURAL | TIMBRAL)
    print()
    print(
        f"model-free families together: {model_free:.2f} s = {audio_s / model_free:.1f}x realtime"
    )
    print(
        f"neural stage (madmom + tempo):  {sum(ours[f] for f in NEURAL):.2f} s = {audio_s / sum(ours[f] for f in NEURAL):.1f}x realtime"
    )
    print(
        f"timbral family:                 {sum(ours[f] for f in TIMBRAL):.2f} s = {audio_s / sum(ours[f] for f in TIMBRAL):.1f}x realtime"
    )
    print(f"Essentia MusicExtractor:        {peer:.2f} s = {audio_s / peer:.1f}x realtime")
    print(f"ratio ours (model-free) / MusicExtractor: {model_free / peer:.2f}")
    if tempo:
        print(f"\ntempo accuracy on {len(tempo['bpm'])} dev clips with published tempi")
        print(f"{'key':<14} {'within 4 %':>10} {'octave forgiven':>16}")
        for key, ratios in tempo.items():
            r = np.array(ratios)
            exact = np.mean(np.abs(r - 1) < 0.04)
            forgiven = np.mean(
                [min(abs(x * k - 1) for k in (0.5, 1, 2, 1 / 3, 3)) < 0.04 for x in r]
            )
            print(f"{key:<14} {exact:>10.2f} {forgiven:>16.2f}")


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
