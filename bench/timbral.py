"""Our timbral models (mir/timbral/) against `timbral_models` 0.4.0, on the same audio.

For each file of the folders: the middle `--seconds` of the decoded track goes to the
package (through tests/timbral_reference.py, it runs at about 2x realtime) and to ours
(`timbral_of_audio` on an `Audio` of that excerpt); prints the seconds each took, the
speed ratio, and how far apart the eight ratings are (0-100 scale), per file, in total
and per feature. Then ours alone on the whole tracks (x realtime), and how its time grows
with the duration: 1, 4 and 15 minutes made by concatenating the tracks (linear cost
means time(15) / time(4) = 3.75). One core, for ours and for the package alike.

    python bench/timbral.py /tmp/mir-real-music/singularity [/tmp/mir-real-music/hyperrogue]
        [--seconds 30] [--limit N]
"""

from __future__ import annotations

import os

# one core, for us and for the package alike
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mir.audio import AUDIO_EXTENSIONS, Audio, load_audio  # noqa: E402
from mir.timbral import TIMBRAL_KEYS, timbral_of_audio  # noqa: E402
from tests.timbral_reference import reference_features  # noqa: E402

GROWTH_MINUTES = (1, 4, 15)


def audio_files(folders: list[Path], limit: int | None) -> list[Path]:
    files = sorted(
        p
        for folder in folders
        for p in folder.iterdir()
        if p.suffix.lstrip(".") in AUDIO_EXTENSIONS
    )
    return files[:limit] if limit else files


def middle(audio: Audio, seconds: float) -> Audio:
    """The middle `seconds` of a track as an `Audio` of its own (as mir.analysis cuts)."""
    n = int(seconds * audio.sr)
    if audio.n_samples <= n:
        return Audio(samples=audio.samples, sr=audio.sr, path=audio.path)
    start = (audio.n_samples - n) // 2
    return Audio(samples=audio.samples[start : start + n], sr=audio.sr, path=audio.path)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def side_by_side(files: list[Path], seconds: float) -> list[Audio]:
    """Package and ours on the same excerpts; returns the decoded tracks."""
    print(f"timbral_models 0.4.0 and ours on the middle {seconds:g} s of each track\n")
    print(f"{'file':<28} {'s':>5} {'package s':>10} {'ours s':>7} {'ratio':>6} {'max |diff|':>11}")
    tracks, diffs = [], {key: [] for key in TIMBRAL_KEYS}
    total_ref = total_ours = total_audio = 0.0
    for path in files:
        audio = load_audio(path)
        tracks.append(audio)
        excerpt = middle(audio, seconds)
        ref, t_ref = timed(lambda e=excerpt: reference_features(e.samples, sr=e.sr))
        ours, t_ours = timed(lambda e=excerpt: timbral_of_audio(e))
        worst = 0.0
        for key in TIMBRAL_KEYS:
            d = abs(ours[key] - ref[key])
            diffs[key].append(d)
            worst = max(worst, d)
        total_ref += t_ref
        total_ours += t_ours
        total_audio += excerpt.duration_s
        print(
            f"{path.name[:28]:<28} {excerpt.duration_s:>5.0f} {t_ref:>10.2f} {t_ours:>7.2f} "
            f"{t_ref / t_ours:>6.1f} {worst:>11.4f}"
        )
    print(
        f"{'total':<28} {total_audio:>5.0f} {total_ref:>10.2f} {total_ours:>7.2f} "
        f"{total_ref / total_ours:>6.1f}"
    )
    print(
        f"\npackage {total_audio / total_ref:.1f}x realtime, ours {total_audio / total_ours:.1f}x "
        f"realtime: ours {total_ref / total_ours:.1f}x faster (target >= 10x)\n"
    )
    print(f"{'feature':<14} {'mean |diff|':>12} {'max |diff|':>11}   (0-100 scale)")
    for key in TIMBRAL_KEYS:
        d = np.array(diffs[key])
        print(f"{key:<14} {d.mean():>12.4f} {d.max():>11.4f}")
    return tracks


def whole_tracks(tracks: list[Audio]) -> None:
    print("\nours on the whole tracks")
    print(f"{'file':<28} {'minutes':>8} {'seconds':>8} {'x realtime':>11}")
    total_audio = total = 0.0
    for audio in tracks:
        fresh = Audio(samples=audio.samples, sr=audio.sr, path=audio.path)  # nothing cached
        _, t = timed(lambda a=fresh: timbral_of_audio(a))
        total_audio += audio.duration_s
        total += t
        print(
            f"{audio.path.name[:28]:<28} {audio.duration_s / 60:>8.1f} {t:>8.2f} "
            f"{audio.duration_s / t:>11.1f}"
        )
    print(f"{'total':<28} {total_audio / 60:>8.1f} {total:>8.2f} {total_audio / total:>11.1f}")


def growth(tracks: list[Audio]) -> None:
    """Ours on 1, 4 and 15 minutes of the tracks laid end to end (at their commonest
    rate, the channel count of the first; repeated if they are too short)."""
    sr = Counter(a.sr for a in tracks).most_common(1)[0][0]
    same = [a.samples for a in tracks if a.sr == sr]
    channels = same[0].shape[1]
    same = [s for s in same if s.shape[1] == channels]
    need = max(GROWTH_MINUTES) * 60 * sr
    parts, have = [], 0
    while have < need:
        for s in same:
            parts.append(s)
            have += s.shape[0]
            if have >= need:
                break
    joined = np.concatenate(parts)[:need]
    print(f"\ngrowth with the duration (tracks laid end to end, {sr} Hz)")
    print(f"{'minutes':>8} {'seconds':>8} {'x realtime':>11}")
    times = {}
    for minutes in GROWTH_MINUTES:
        audio = Audio(samples=joined[: minutes * 60 * sr], sr=sr)
        _, times[minutes] = timed(lambda a=audio: timbral_of_audio(a))
        print(f"{minutes:>8} {times[minutes]:>8.2f} {minutes * 60 / times[minutes]:>11.1f}")
    print(
        f"time(4) / time(1) = {times[4] / times[1]:.2f} (linear: 4), "
        f"time(15) / time(4) = {times[15] / times[4]:.2f} (linear: 3.75)"
    )


def main() -> None:
    warnings.filterwarnings("ignore")  # the package's pyloudnorm and librosa warnings
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", help="folders of audio files")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="excerpt the package gets (it is slow)"
    )
    parser.add_argument("--limit", type=int, default=None, help="at most this many files")
    args = parser.parse_args()
    files = audio_files(args.folders, args.limit)
    if not files:
        raise SystemExit(f"no audio files in {', '.join(map(str, args.folders))}")
    # warm-up: imports, filter designs and FFT plans are not what we time
    warm = Audio(samples=load_audio(files[0]).samples[: 5 * 44100], sr=44100)
    timbral_of_audio(warm)
    reference_features(warm.samples, sr=warm.sr)
    tracks = side_by_side(files, args.seconds)
    whole_tracks(tracks)
    growth(tracks)


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
