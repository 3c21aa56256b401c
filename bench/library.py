"""A library-sized run: `mir run` over a folder of real music, beside Essentia's MusicExtractor.

Copies (hard-links) every audio file of FOLDER into a fresh inbox, then, with a cold
Dagster instance (SQLite), a new feature store and the default configuration with no
model files (so every asset that needs no model runs: beats, every feature family,
timbral, time series, crops, the Stable Audio Tools export, statistics):

1. runs `mir run` as a user would, in its own process: wall time, x realtime, and the CPU
   time of the whole process tree against the wall time (how many cores were busy);
2. reads each asset's step durations back from Dagster's event log: its seconds, share
   of all step time, and x realtime;
3. runs Essentia's MusicExtractor over the same files, one after the other on one core,
   in the same session: its time against that of our model-free feature families other
   than the beat network and timbral (rhythm, loudness, spectral, harmonic).

    python bench/library.py FOLDER [--workers N] [--no-peer]

Targets on a 2-core machine: the whole run >= 10x realtime; the families within 2x of
MusicExtractor's time; both cores busy.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: the model-free families compared with MusicExtractor (the beat network, Essentia's
#: tempo inside beat_grid, and timbral are not in MusicExtractor's default set)
FAMILIES = ("rhythm_features", "loudness", "spectral_features", "harmonic_features")


def _project(root: Path, files: list[Path], workers: int | None) -> Path:
    config: dict = {
        "paths": {
            "inbox": str(root / "inbox"),
            "library": str(root / "library"),
            "duckdb": str(root / "mir.duckdb"),
            "models": str(root / "models"),
            "crops": str(root / "crops"),
            "dataset": str(root / "dataset"),
            "reports": str(root / "reports"),
        },
    }
    if workers is not None:
        config["processing"] = {"workers": workers}
    path = root / "config" / "master_pipeline.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(config))
    inbox = root / "inbox"
    inbox.mkdir()
    for i, source in enumerate(files):
        target = inbox / f"{i:03d} {source.name}"  # names stay distinct across sub-folders
        try:
            os.link(source, target)
        except OSError:
            shutil.copy(source, target)
    (root / "home").mkdir()
    (root / "home" / "dagster.yaml").write_text((ROOT / "config" / "dagster.yaml").read_text())
    return path


def step_seconds(home: Path) -> dict[str, float]:
    """Sum of each step's duration over every run of the instance (from the event log)."""
    os.environ["DAGSTER_HOME"] = str(home)
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    seconds: dict[str, float] = defaultdict(float)
    for record in instance.get_run_records():
        for entry in instance.all_logs(record.dagster_run.run_id):
            event = entry.dagster_event
            if event is not None and event.is_step_success:
                seconds[event.step_key] += event.step_success_data.duration_ms / 1000.0
    return dict(seconds)


def timeline(home: Path, launched: float, ended: float) -> dict[str, float]:
    """Where the wall time of `mir run` went, from the start and end of each track's run:
    seconds before the first run started (start-up, registration), with two or more runs
    in flight, with one (the other worker idle: mostly the tail), with none between runs,
    and after the last run ended (the library-wide assets, the summary)."""
    os.environ["DAGSTER_HOME"] = str(home)
    from dagster import DagsterInstance

    spans = [
        (r.start_time, r.end_time)
        for r in DagsterInstance.get().get_run_records()
        if r.start_time and r.end_time
    ]
    if not spans:
        return {}
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    by_count: dict[int, float] = defaultdict(float)
    level, last = 0, edges[0][0]
    for at, step in edges:
        by_count[min(level, 2)] += at - last
        level, last = level + step, at
    first, final = min(s for s, _ in spans), max(e for _, e in spans)
    return {
        "before the first track's run": first - launched,
        "two tracks' runs in flight": by_count[2],
        "one run in flight (a worker idle)": by_count[1],
        "no run in flight, between runs": by_count[0],
        "after the last run": ended - final,
    }


def music_extractor_seconds(files: list[Path]) -> float:
    """MusicExtractor over every file, one core, in a child process (timed inside it)."""
    code = (
        "import sys, time, essentia, essentia.standard as es\n"
        "essentia.log.infoActive = essentia.log.warningActive = False\n"
        "total = 0.0\n"
        "for path in sys.argv[1:]:\n"
        "    t0 = time.perf_counter()\n"
        "    es.MusicExtractor(lowlevelStats=['mean', 'stdev'], rhythmStats=['mean', 'stdev'],"
        " tonalStats=['mean', 'stdev'])(path)\n"
        "    total += time.perf_counter() - t0\n"
        "print(total)\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder of real music (searched recursively)")
    parser.add_argument("--workers", type=int, help="processing.workers (default: the config's)")
    parser.add_argument("--no-peer", action="store_true", help="skip MusicExtractor")
    args = parser.parse_args()

    import soundfile as sf

    from mir.audio import AUDIO_EXTENSIONS

    files = sorted(
        p for p in Path(args.folder).rglob("*") if p.suffix.lower().lstrip(".") in AUDIO_EXTENSIONS
    )
    if not files:
        raise SystemExit(f"no audio files in {args.folder}")
    audio_s = sum(sf.info(str(p)).duration for p in files)
    cores = os.cpu_count() or 1
    print(f"{len(files)} files, {audio_s / 60:.1f} min of audio, {cores} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="mir-library-") as tmp:
        root = Path(tmp)
        config = _project(root, files, args.workers)
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "DAGSTER_HOME": str(root / "home")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0, launched = time.perf_counter(), time.time()
        proc = subprocess.run(
            [sys.executable, "-m", "mir_cli", "run", "--config", str(config)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
        )
        wall, ended = time.perf_counter() - t0, time.time()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        summary = proc.stdout[proc.stdout.find("\nasset ") :].split("\nlibrary:")[0]
        print(summary.rstrip())
        if proc.returncode != 0:
            print(
                f"mir run exited with {proc.returncode}: {proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        seconds = step_seconds(root / "home")
        spans = timeline(root / "home", launched, ended)
    peer = None if args.no_peer else music_extractor_seconds(files)

    is_check = lambda step: step.endswith(("_values_in_range", "_tracks_stored"))  # noqa: E731
    assets = {k: v for k, v in seconds.items() if not is_check(k)}
    checks = sum(v for k, v in seconds.items() if is_check(k))
    total_steps = sum(seconds.values())
    if not total_steps:
        raise SystemExit("no step of the run succeeded: nothing to measure")
    families = sum(assets.get(name, 0.0) for name in FAMILIES)
    pace = audio_s / wall

    # one table: each step of our run, the whole run, and the peer on the same files
    rows: list[tuple[str, float, str]] = []
    for name, s in sorted(assets.items(), key=lambda kv: -kv[1]):
        rows.append((name, s, f"{s / total_steps:.1%}"))
    rows.append(("(asset checks)", checks, f"{checks / total_steps:.1%}"))
    rows.append(("all steps (CPU of 2 workers)", total_steps, "100.0%"))
    rows.append((f"mir run, wall ({cores} cores)", wall, ""))
    rows.append((f"families: {'+'.join(n.split('_')[0] for n in FAMILIES)}", families, ""))
    if peer is not None:
        rows.append(("peer: Essentia MusicExtractor, 1 core", peer, ""))
    print(f"\n{'step or peer':<40} {'seconds':>9} {'share':>7} {'x realtime':>11}")
    for name, s, share in rows:
        print(f"{name:<40} {s:9.1f} {share:>7} {audio_s / s:11.1f}")

    print(f"\nmir run: {audio_s:.0f} s of audio in {wall:.1f} s = {pace:.1f}x realtime "
          f"(target >= 10x: {'met' if pace >= 10 else 'MISSED'})")  # fmt: skip
    print(f"CPU time of the run {cpu:.0f} s over {wall:.0f} s wall = {cpu / wall:.2f} cores busy "
          f"of {cores}; step time {total_steps:.0f} s, the rest is start-up, registration and "
          f"Dagster's bookkeeping")  # fmt: skip
    if spans:
        print(f"\nwhere the wall time of mir run went{'':<12} {'seconds':>9} {'share':>7}")
        for name, s in spans.items():
            print(f"{name:<48} {s:9.1f} {s / wall:7.1%}")
    if peer is not None:
        ratio = families / peer
        print(f"ratio families / MusicExtractor: {ratio:.2f} "
              f"(target <= 2: {'met' if ratio <= 2 else 'MISSED'}); "
              f"whole run (wall, {cores} cores) / MusicExtractor (1 core): {wall / peer:.2f}")  # fmt: skip


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
