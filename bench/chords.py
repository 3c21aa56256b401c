"""Our CNN chord recogniser (mir/chords.py, its network in torch) against madmom's own
CNN chain, on the same audio.

For each file (the longest first, `--limit` of them): the track's 44.1 kHz mono goes to
madmom's `CNNChordFeatureProcessor` + `CRFChordRecognitionProcessor` in one piece and to
our `recognize_chords` (blocked spectrogram, the network in torch, the same CRF); prints
the seconds per minute of audio each took, the speed ratio, how far apart the network's
features are and whether the decoded chords agree (the same segments, else the share of
frames with the same label). Then where our time goes (spectrogram, network, CRF), and
how it grows with the duration: 1, 4 and 16 minutes of the first track (looped, the best
of three runs; linear cost means time(4) / time(1) = 4 and time(16) / time(4) = 4). One
core, for madmom and for us alike. Decoding and resampling to 44.1 kHz are not timed.

    python bench/chords.py /tmp/mir-real-music/singularity [more folders or files]
        [--limit 2]
"""

from __future__ import annotations

import os

# one core, for madmom and for us alike (MIR_THREADS sizes torch's pool in mir.chords)
for var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "MIR_THREADS",
):
    os.environ[var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mir import chords  # noqa: E402
from mir.audio import AUDIO_EXTENSIONS, Audio, load_audio  # noqa: E402

SR = chords.MADMOM_SR
GROWTH_MINUTES = (1, 4, 16)
#: runs of each duration in the growth table, the fastest kept
REPEATS = 3


def duration_s(path: Path) -> float:
    """The file's duration without decoding it (0 where soundfile cannot tell)."""
    import soundfile

    try:
        return soundfile.info(str(path)).duration
    except Exception:  # a format soundfile does not read: sorted last
        return 0.0


def audio_files(paths: list[Path], limit: int | None) -> list[Path]:
    """The audio files of `paths` (files, or folders searched recursively), longest first."""
    files = []
    for path in paths:
        found = path.rglob("*") if path.is_dir() else [path]
        files += [p for p in found if p.is_file() and p.suffix.lstrip(".") in AUDIO_EXTENSIONS]
    files = sorted(set(files), key=lambda p: (-duration_s(p), p.name))
    return files[:limit] if limit else files


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def at_44k(y: np.ndarray) -> Audio:
    """An `Audio` whose 44.1 kHz mono is `y` (nothing left to resample)."""
    return Audio(samples=y[:, None], sr=SR)


def madmoms_chain(y: np.ndarray):
    """madmom's own CNN chain in one piece: (features, segments) and the seconds of each."""
    from madmom.audio.signal import Signal

    features, decoder = chords._models("cnn")
    feats, t_features = timed(lambda: features(Signal(y, sample_rate=SR, num_channels=1)))
    segments, t_decode = timed(lambda: decoder(feats))
    return feats, segments, t_features + t_decode


def frame_labels(segments, n: int) -> np.ndarray:
    """The label of each of the `n` frames (at chords.FPS) that `segments` cover."""
    labels = np.full(n, chords.NO_CHORD, dtype=object)
    for start, end, label in segments:
        i0, i1 = int(round(float(start) * chords.FPS)), int(round(float(end) * chords.FPS))
        labels[i0:i1] = str(label)
    return labels


def side_by_side(files: list[Path]) -> list[np.ndarray]:
    """madmom's chain and ours on each track; returns the tracks' 44.1 kHz mono."""
    print("madmom's CNN chord chain and ours on the same 44.1 kHz mono, one core\n")
    print(
        f"{'file':<26} {'min':>5} {'madmom s/min':>13} {'ours s/min':>11} {'ratio':>6} "
        f"{'max |diff|':>11} {'labels':>14}"
    )
    tracks = []
    total_madmom = total_ours = total_min = 0.0
    all_same = True
    features, _ = chords._models("cnn")
    for path in files:
        y = load_audio(path).mono(SR)
        tracks.append(y)
        minutes = y.size / SR / 60
        feats, theirs, t_madmom = madmoms_chain(y)
        ours, t_ours = timed(lambda y=y: chords.recognize_chords(at_44k(y)))
        # our network's features, untimed, against madmom's
        mine = chords._network(chords._spectrogram(features, y), chords._stages("cnn", features))
        diff = float(np.abs(mine - feats).max())
        same = [(round(float(s), 6), str(label)) for s, _, label in theirs] == [
            (c.start_s, c.label) for c in ours
        ]
        if same:
            agreement = "identical"
        else:
            all_same = False
            n = len(feats)
            share = np.mean(frame_labels(theirs, n) == frame_labels(ours, n))
            agreement = f"{100 * share:.2f} % frames"
        total_madmom += t_madmom
        total_ours += t_ours
        total_min += minutes
        print(
            f"{path.stem[:26]:<26} {minutes:>5.2f} {t_madmom / minutes:>13.2f} "
            f"{t_ours / minutes:>11.3f} {t_madmom / t_ours:>6.1f} {diff:>11.2e} {agreement:>14}"
        )
    print(
        f"{'total':<26} {total_min:>5.2f} {total_madmom / total_min:>13.2f} "
        f"{total_ours / total_min:>11.3f} {total_madmom / total_ours:>6.1f}"
    )
    print(
        f"\nmadmom {total_madmom / total_min:.2f} s per minute of audio "
        f"({60 * total_min / total_madmom:.1f}x realtime), ours {total_ours / total_min:.3f} s "
        f"per minute ({60 * total_min / total_ours:.0f}x realtime): "
        f"{total_madmom / total_ours:.0f}x faster; chords "
        f"{'identical on every track' if all_same else 'NOT identical on every track'}"
    )
    return tracks


def breakdown(y: np.ndarray) -> None:
    """Where our time goes on one track."""
    features, decoder = chords._models("cnn")
    stages = chords._stages("cnn", features)
    spec, t_spec = timed(lambda: chords._spectrogram(features, y))
    feats, t_net = timed(lambda: chords._network(spec, stages))
    _, t_crf = timed(lambda: decoder(feats))
    minutes = y.size / SR / 60
    print(
        f"\nours, s per minute of audio: spectrogram {t_spec / minutes:.3f}, "
        f"network (torch) {t_net / minutes:.3f}, CRF {t_crf / minutes:.3f}"
    )


def growth(y: np.ndarray) -> None:
    """Ours on 1, 4 and 16 minutes of one track (looped where it is shorter)."""
    need = max(GROWTH_MINUTES) * 60 * SR
    looped = np.tile(y, int(np.ceil(need / y.size)))[:need]
    print(f"\ngrowth with the duration (one track, looped; best of {REPEATS})")
    print(f"{'minutes':>8} {'seconds':>8} {'s/min':>7} {'x realtime':>11} {'CPU s/min':>10}")
    wall, cpu = {}, {}
    for minutes in GROWTH_MINUTES:
        part = looped[: minutes * 60 * SR]
        runs = []
        for _ in range(REPEATS):
            t0, c0 = time.perf_counter(), time.process_time()
            chords.recognize_chords(at_44k(part))
            runs.append((time.perf_counter() - t0, time.process_time() - c0))
        # the fastest run: the machine is shared, and the noise only ever adds
        wall[minutes], cpu[minutes] = min(runs)
        print(
            f"{minutes:>8} {wall[minutes]:>8.2f} {wall[minutes] / minutes:>7.3f} "
            f"{minutes * 60 / wall[minutes]:>11.0f} {cpu[minutes] / minutes:>10.3f}"
        )
    for name, times in (("seconds", wall), ("CPU seconds", cpu)):
        print(
            f"{name}: time(4) / time(1) = {times[4] / times[1]:.2f} (linear: 4), "
            f"time(16) / time(4) = {times[16] / times[4]:.2f} (linear: 4)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", type=Path, nargs="+", help="audio files or folders of them")
    parser.add_argument(
        "--limit", type=int, default=2, help="at most this many files, the longest (madmom "
        "takes about 15 s per minute); 0 for all"
    )  # fmt: skip
    args = parser.parse_args()
    files = audio_files(args.paths, args.limit)
    if not files:
        raise SystemExit(f"no audio files in {', '.join(map(str, args.paths))}")
    # warm-up: imports, model loading and torch's first call are not what we time
    warm = np.random.default_rng(0).standard_normal(5 * SR).astype(np.float32) * 0.1
    chords.recognize_chords(at_44k(warm))
    madmoms_chain(warm)
    tracks = side_by_side(files)
    breakdown(tracks[0])
    growth(tracks[0])


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
