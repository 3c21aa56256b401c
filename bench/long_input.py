"""A long input in bounded memory: peak RSS and wall time per asset, 10 minutes vs 1 hour.

Synthesises a stereo 44.1 kHz FLAC of each length (a rendered song repeated, with a
little noise so no two passes are identical), then materializes the track assets that
need no model (source_audio, beat_grid, loudness, rhythm_features, spectral_features,
harmonic_features, timbral_features) for it, through Dagster, one asset after the other
in one process, as `mir run` does. Each length runs in its own process, watched from
here: above `--max-rss-gb` it is killed (and reported) rather than let the machine swap.

    python bench/long_input.py [--minutes 10 60] [--max-rss-gb 12]

Per asset: wall time, the peak resident set while it ran (the kernel's high-water mark,
reset before each asset through /proc/self/clear_refs), and the resident set after it.
The process peak is the highest of those (the reset also resets `ru_maxrss`, so that
alone would miss earlier assets), checked against what the watcher here saw.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ASSETS = [
    "source_audio",
    "beat_grid",
    "loudness",
    "rhythm_features",
    "spectral_features",
    "harmonic_features",
    "timbral_features",
]
SR = 44100


def _status_kb(field: str, pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def synthesise(path: Path, seconds: float) -> None:
    """A stereo 16-bit FLAC of `seconds`: a 2-minute song at 124 BPM, repeated, plus noise."""
    import soundfile as sf

    from mir.synth import render_song

    song = render_song(bpm=124.0, bars=62, tonic="D", scale="minor", seed=3).mix
    rng = np.random.default_rng(0)
    total = int(seconds * SR)
    with sf.SoundFile(str(path), "w", SR, 2, format="FLAC", subtype="PCM_16") as f:
        written = 0
        while written < total:
            block = song[: total - written]
            noise = rng.normal(0.0, 0.003, block.shape).astype(np.float32)
            f.write(np.clip(block + noise, -1.0, 1.0))
            written += block.shape[0]


def _project(tmp: Path, seconds: float) -> Path:
    features = {
        name: False
        for name in ("stems", "stem_loudness", "stem_rhythm", "stem_harmonic", "track_metadata",
                     "classification", "track_timeseries", "training_crops", "sat_dataset",
                     "feature_statistics")
    }  # fmt: skip
    config = {
        "paths": {
            "inbox": str(tmp / "inbox"),
            "library": str(tmp / "library"),
            "duckdb": str(tmp / "f.duckdb"),
            "models": str(tmp / "models"),
        },
        "features": features,
    }
    config_path = tmp / "config" / "master_pipeline.yaml"
    config_path.parent.mkdir(parents=True)
    config_path.write_text(yaml.safe_dump(config))
    (tmp / "inbox").mkdir()
    synthesise(tmp / "inbox" / f"long {seconds / 60:g} min.flac", seconds)
    return config_path


def child(config_path: str) -> None:
    """Register the inbox file, then materialize each asset for it; one JSON line each."""
    from dagster import DagsterInstance, materialize

    from mir.config import load_config
    from mir.tracks import find_audio_files
    from mir_assets.definitions import all_assets, make_resources
    from mir_assets.partitions import TRACKS
    from resources.duckdb_tables import FeatureTables, register_files

    cfg = load_config(config_path)
    files = find_audio_files(cfg.paths.inbox, cfg.processing.audio_extensions)
    ((track_id, _, _),) = register_files(FeatureTables(cfg.paths.duckdb), files)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(TRACKS, [track_id])
    resources = make_resources(config_path)
    print(json.dumps({"ready": _status_kb("VmRSS")}), flush=True)
    for name in ASSETS:
        with open("/proc/self/clear_refs", "w") as f:  # reset the high-water mark
            f.write("5")
        print(json.dumps({"asset": name}), flush=True)
        t0 = time.perf_counter()
        result = materialize(
            all_assets,
            selection=[name],
            partition_key=track_id,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        wall = time.perf_counter() - t0
        row = {
            "name": name,
            "ok": result.success,
            "wall_s": wall,
            "peak_mb": _status_kb("VmHWM") / 1024,
            "after_mb": _status_kb("VmRSS") / 1024,
        }
        if not result.success:
            failure = next((e for e in result.all_events if e.is_step_failure), None)
            err = failure.step_failure_data.error if failure else None
            row["error"] = err.message.strip().splitlines()[0] if err else "?"
        print(json.dumps(row), flush=True)


def measure(minutes: float, max_rss_gb: float) -> dict:
    """Run one length in a watched child process; returns its rows and the peak."""
    seconds = minutes * 60.0
    with tempfile.TemporaryDirectory(prefix="mir-long-") as tmp:
        t0 = time.perf_counter()
        config_path = _project(Path(tmp), seconds)
        print(f"\n{minutes:g} min: synthesised in {time.perf_counter() - t0:.0f} s", flush=True)
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(config_path)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        watched = {"peak_kb": 0, "killed": False}

        def watch() -> None:
            while proc.poll() is None:
                try:
                    rss = _status_kb("VmRSS", proc.pid)
                except (FileNotFoundError, ProcessLookupError):
                    return
                watched["peak_kb"] = max(watched["peak_kb"], rss)
                if rss > max_rss_gb * 1024**2:
                    watched["killed"] = True
                    proc.kill()
                    return
                time.sleep(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        rows, current = [], None
        for line in proc.stdout:
            msg = json.loads(line)
            if "asset" in msg:
                current = msg["asset"]
                print(f"  {current} ...", flush=True)
            elif "name" in msg:
                rows.append(msg)
                print(
                    f"  {msg['name']:<18} {msg['wall_s']:8.1f} s  peak {msg['peak_mb']:7.0f} MB"
                    + ("" if msg["ok"] else f"  FAILED: {msg.get('error')}"),
                    flush=True,
                )
        proc.wait()
        watcher.join()
    return {
        "minutes": minutes,
        "rows": rows,
        "killed_in": current if watched["killed"] else None,
        "watched_peak_mb": watched["peak_kb"] / 1024,
        "returncode": proc.returncode,
    }


def report(run: dict, max_rss_gb: float) -> None:
    seconds = run["minutes"] * 60
    print(f"\n{run['minutes']:g}-minute stereo 44.1 kHz input ({seconds:.0f} s)")
    header = (
        f"{'asset':<18} {'wall s':>8} {'x realtime':>10} {'peak RSS MB':>12} {'RSS after MB':>13}"
    )
    print(header)
    for r in run["rows"]:
        print(
            f"{r['name']:<18} {r['wall_s']:8.1f} {seconds / r['wall_s']:10.1f} "
            f"{r['peak_mb']:12.0f} {r['after_mb']:13.0f}" + ("" if r["ok"] else "  FAILED")
        )
    total = sum(r["wall_s"] for r in run["rows"])
    if run["rows"]:
        print(f"{'all':<18} {total:8.1f} {seconds / total:10.1f}")
        peak = max(r["peak_mb"] for r in run["rows"])
        print(
            f"process peak RSS: {peak:.0f} MB (seen from outside: {run['watched_peak_mb']:.0f} MB)"
        )
    if run["killed_in"]:
        print(
            f"KILLED in {run['killed_in']}: resident set above {max_rss_gb:g} GB "
            f"(watched peak {run['watched_peak_mb']:.0f} MB)"
        )
    elif run["returncode"]:
        print(f"the process exited with {run['returncode']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--max-rss-gb", type=float, default=12.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    runs = [measure(m, args.max_rss_gb) for m in args.minutes]
    for run in runs:
        report(run, args.max_rss_gb)


if __name__ == "__main__":
    main()
