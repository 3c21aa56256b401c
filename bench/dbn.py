"""The downbeat DBN's decoding: `mir.beats.viterbi` (numba) against madmom's own Viterbi
(Cython), on the same network activations of each file, in one run.

For each file: the downbeat network's activations once, then the whole decoding
(`mir.beats._decode_downbeats`: 3/4 and 4/4, in blocks past 5 minutes) with madmom's
HMMs as they come and with ours; whether the beats are identical, and the CPU and wall
time of each (ours decodes the two bar lengths on two threads at once; madmom's
decodes them one after the other, and its Viterbi holds the GIL, so threads would not
help it).

    python bench/dbn.py FOLDER [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mir import beats  # noqa: E402
from mir._madmom import import_madmom  # noqa: E402
from mir.audio import AUDIO_EXTENSIONS, load_audio  # noqa: E402


def timed(decode, dbn, act):
    c0, w0 = time.process_time(), time.perf_counter()
    out = decode(dbn, act)
    return out, time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--limit", type=int, default=0, help="the first N files only")
    args = parser.parse_args()
    files = sorted(
        p for p in Path(args.folder).rglob("*") if p.suffix.lower().lstrip(".") in AUDIO_EXTENSIONS
    )[: args.limit or None]
    madmom = import_madmom()
    downbeats = madmom.features.downbeats

    def dbn():  # built once each, as the pipeline keeps its processors
        return downbeats.DBNDownBeatTrackingProcessor(
            beats_per_bar=[3, 4], min_bpm=55.0, max_bpm=215.0, fps=100
        )

    rnn = downbeats.RNNDownBeatProcessor()
    theirs_dbn, ours = dbn(), beats._parallel_dbn(dbn())
    beats._decode_downbeats(ours, np.full((100, 2), 0.1))  # compile before timing
    total = np.zeros(4)
    seconds = 0.0
    equal = 0
    print(
        f"{'file':<28} {'audio s':>8} {'madmom cpu':>11} {'wall':>6} {'ours cpu':>9} {'wall':>6}  same beats"
    )
    for path in files:
        y = load_audio(path).mono(beats.MADMOM_SR)
        act = beats._downbeat_activation(rnn, y, sr=beats.MADMOM_SR)
        theirs, c_m, w_m = timed(beats._decode_downbeats, theirs_dbn, act)
        mine, c_o, w_o = timed(beats._decode_downbeats, ours, act)
        same = bool(np.array_equal(theirs, mine))
        equal += same
        seconds += act.shape[0] / 100
        total += (c_m, w_m, c_o, w_o)
        print(
            f"{path.name[:28]:<28} {act.shape[0] / 100:8.0f} {c_m:11.2f} {w_m:6.2f} {c_o:9.2f} {w_o:6.2f}  {same}"
        )
    c_m, w_m, c_o, w_o = total
    print(
        f"\n{len(files)} files, {seconds / 60:.1f} min: identical beats in {equal}/{len(files)}; "
        f"CPU madmom {c_m:.1f} s / ours {c_o:.1f} s = {c_m / c_o:.2f}x; "
        f"wall {w_m:.1f} s / {w_o:.1f} s = {w_m / w_o:.2f}x"
    )


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
