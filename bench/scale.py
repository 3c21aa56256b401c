"""Scale: a library of 100,000 tracks, on a temporary project and Dagster instance.

The bench makes the registry rows and partitions itself (tiny files stand in for audio
the measured code only stats; the new files of the sensor's tick are real 0.5 s WAVs, as
the sensor probes and hashes them) and measures:

- the inbox sensor's tick (its function through `build_sensor_context`) over N known
  files, then with `--new` new ones: the tick that first sees them (they settle) and the
  tick that admits them (probe, hash, register, one run request per `tracks_per_run`);
- `mir run`'s planning: `run_pipeline` from its start to the hand-over of the plan to
  the workers (registry read, inbox walk and stats, partitions, per-asset status, the
  per-track plan; the code location's import is done before); the runs themselves are
  not started. `mir run --dry-run` too;
- adding N dynamic partitions (`instance.add_dynamic_partitions`, in batches);
- a feature query over N rows in DuckDB and in PostgreSQL (a server of Debian's
  postgresql started on loopback, as the tests do), rows written with the store's upsert;
- the asset page with N partitions in Chromium under `dagster dev`: time until the
  partition list shows a track (screenshots in test-artifacts/);
- launching a backfill over all N partitions as the UI does (`PartitionBackfill.
  from_asset_partitions`, the runnable track assets) and the backfill daemon's iteration
  creating its runs (`tracks_per_run` tracks each) on the SQLite instance; runs are
  queued, never launched (no run queue daemon runs). A step that outlasts its budget is
  stopped and its measured rate extrapolated to N (labelled so).

    python bench/scale.py [--tracks 100000] [--new 1000] [--no-browser] [--no-postgres]
                          [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 10_000
TRACK_ID = re.compile(r"^bench\d{6}$")
QUERIES = {
    "bpm 120-130 and lufs > -10": "SELECT track_id FROM beat_grid JOIN loudness USING (track_id) "
    "WHERE bpm BETWEEN 120 AND 130 AND lufs > -10",
    "README: bpm > 120 with lufs": "SELECT track_id, bpm, lufs FROM beat_grid JOIN loudness "
    "USING (track_id) WHERE bpm > 120",
}


class Table:
    """The rows of the final table: measure, value, target, verdict."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, measure: str, value: str, target: str = "-", ok: bool | None = None) -> None:
        verdict = "-" if ok is None else ("pass" if ok else "FAIL")
        self.rows.append((measure, value, target, verdict))
        print(f"  {measure}: {value}", flush=True)

    def print(self) -> None:
        widths = [max(len(r[i]) for r in [("measure", "value", "target", ""), *self.rows]) for i in range(4)]  # fmt: skip
        line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
        print(line(("measure", "value", "target", "")))
        for row in self.rows:
            print(line(row))


def setup_project(root: Path, n_new: int) -> tuple[Path, Path]:
    """Config and DAGSTER_HOME under `root`; exported before the code location is imported."""
    cfg = {
        "paths": {
            "inbox": str(root / "inbox"),
            "library": str(root / "library"),
            "duckdb": str(root / "mir.duckdb"),
            "models": str(root / "models"),
        },
        # one tick takes every new file, so the admitting tick is the worst case
        "sensor": {"stable_seconds": 0.0, "max_new_tracks_per_tick": max(n_new, 1)},
    }
    config_path = root / "config" / "master_pipeline.yaml"
    config_path.parent.mkdir(parents=True)
    config_path.write_text(yaml.safe_dump(cfg))
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "config" / "dagster.yaml", home / "dagster.yaml")
    os.environ.update({"MIR_CONFIG": str(config_path), "DAGSTER_HOME": str(home)})
    for var in ("MIR_INBOX", "MIR_LIBRARY", "MIR_DUCKDB"):
        os.environ.pop(var, None)
    return config_path, home


def known_files(inbox: Path, n: int) -> list[Path]:
    """N tiny stand-ins, 1,000 a folder (the measured code stats them, never reads them)."""
    paths = []
    for i in range(n):
        folder = inbox / f"artist{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        path = folder / f"bench{i:06d}.wav"
        path.write_bytes(b"RIFF")
        paths.append(path)
    return paths


def new_files(inbox: Path, n: int) -> list[Path]:
    """N real 0.5 s WAVs of distinct noise (probed and hashed by the sensor)."""
    folder = inbox / "new"
    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = folder / f"new{i:05d}.wav"
        sf.write(str(path), 0.1 * rng.standard_normal(22050).astype("float32"), 44100)
        paths.append(path)
    return paths


def register(tables, paths: list[Path]) -> None:
    """Registry rows through the project's register, with a stand-in content hash."""
    from mir.tracks import track_name

    for a in range(0, len(paths), BATCH):
        batch = paths[a : a + BATCH]
        tables.register([(p, hashlib.sha256(str(p).encode()).hexdigest(), track_name(p)) for p in batch])  # fmt: skip


def seconds(t: float) -> str:
    return f"{t:.2f} s" if t < 100 else f"{t:.0f} s"


def bench_sensor(table: Table, instance, config_path: Path, inbox: Path, n: int, n_new: int):
    from dagster import SensorResult, build_sensor_context

    from mir_assets.definitions import inbox_sensor
    from resources.settings import PipelineSettings

    settings = PipelineSettings(config_path=str(config_path))

    def tick(cursor):
        context = build_sensor_context(instance=instance, cursor=cursor, resources={"settings": settings})  # fmt: skip
        logging.disable(logging.INFO)  # the tick logs every new track id
        try:
            started = time.perf_counter()
            result = inbox_sensor(context)
            return time.perf_counter() - started, result, context.cursor
        finally:
            logging.disable(logging.NOTSET)

    took, result, cursor = tick(None)
    table.add(f"sensor tick, {n:,} known files", seconds(took), "< 10 s", took < 10)
    if n_new:
        new_files(inbox, n_new)
        took, result, cursor = tick(cursor)
        table.add(f"sensor tick, +{n_new:,} new files first seen (settling)", seconds(took), "< 10 s", took < 10)  # fmt: skip
        took, result, cursor = tick(cursor)
        runs = len(result.run_requests) if isinstance(result, SensorResult) else 0
        table.add(
            f"sensor tick, {n_new:,} new files admitted ({runs} run requests)",
            seconds(took), "< 10 s", took < 10 and runs > 0,
        )  # fmt: skip


def bench_planning(table: Table, config_path: Path, n: int) -> None:
    """`run_pipeline` until it hands its plan to `run_tracks` (stopped there)."""
    import mir_assets.local_run as local_run
    from mir.config import load_config
    from mir_assets.run_command import run_pipeline

    class Planned(Exception):
        pass

    handed: dict = {}

    def stop(plan, **_):
        handed["t"] = time.perf_counter()
        handed["tracks"] = sum(1 for todo in plan.values() if todo)
        raise Planned

    cfg = load_config(config_path)
    import mir_assets.definitions  # noqa: F401  the code location's import (~2 s) is not planning

    original = local_run.run_tracks
    local_run.run_tracks = stop
    try:
        args = argparse.Namespace(force=False, dry_run=False, config=str(config_path))
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                run_pipeline(args, cfg)
            except Planned:
                pass
    finally:
        local_run.run_tracks = original
    took = handed["t"] - started
    table.add(f"mir run planning, {n:,} tracks ({handed['tracks']:,} to run)", seconds(took))
    args = argparse.Namespace(force=False, dry_run=True, config=str(config_path))
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        run_pipeline(args, cfg)
    table.add(f"mir run --dry-run, {n:,} files", seconds(time.perf_counter() - started))


def bench_store(table: Table, tables, name: str, track_ids: list[str]) -> None:
    """Upsert `beat_grid` and `loudness` rows for every track into the feature store
    `tables`, then time :data:`QUERIES` on one connection (median of 10, after a first)."""
    rng = np.random.default_rng(1)
    bpm = rng.uniform(60, 180, len(track_ids))
    lufs = rng.uniform(-30, -4, len(track_ids))
    started = time.perf_counter()
    per = 1000  # a feature-store write per 1,000 tracks (a run writes `tracks_per_run`)
    for a in range(0, len(track_ids), per):
        ids = track_ids[a : a + per]
        tables.upsert("beat_grid", {t: {"bpm": float(bpm[a + i]), "beats_per_bar": 4} for i, t in enumerate(ids)})  # fmt: skip
        tables.upsert("loudness", {t: {"lufs": float(lufs[a + i]), "lra": 6.5} for i, t in enumerate(ids)})  # fmt: skip
    took = time.perf_counter() - started
    table.add(f"{name} upsert, {len(track_ids):,} rows x 2 tables (1,000 a write)", seconds(took))
    with tables.connect(read_only=True) as con:
        for query, sql in QUERIES.items():
            times, rows = [], 0
            for _ in range(11):
                started = time.perf_counter()
                rows = len(con.execute(sql).fetchall())
                times.append(time.perf_counter() - started)
            ms = statistics.median(times[1:]) * 1000
            table.add(
                f"{name} query over {len(track_ids):,} rows: {query} ({rows:,} rows; first {times[0] * 1000:.0f} ms)",
                f"{ms:.1f} ms", "< 100 ms", ms < 100,
            )  # fmt: skip


def bench_postgres(table: Table, track_ids: list[str]) -> None:
    """:func:`bench_store` on the PostgreSQL backend, on a server of Debian's postgresql
    started on loopback for the bench (as the tests start theirs)."""
    from store.postgres import PostgresTables
    from tests.servers import create_database, postgres_server

    with postgres_server("postgres_default") as port:
        bench_store(table, PostgresTables(create_database(port, "mir")), "PostgreSQL", track_ids)


def bench_browser(table: Table, home: Path, config_path: Path, n: int, shots: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.dagster_dev import dagster_dev_on_instance

    chromium = "/usr/bin/chromium"
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
    with dagster_dev_on_instance(home, {"MIR_CONFIG": str(config_path)}, timeout_s=600) as url:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=args)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for visit in ("first", "second"):
                started = time.perf_counter()
                page.goto(f"{url}/assets/loudness?view=partitions", wait_until="commit")
                page.get_by_text(TRACK_ID).first.wait_for(state="visible", timeout=600_000)
                took = time.perf_counter() - started
                page.screenshot(path=str(shots / f"scale_partitions_{visit}.png"))
                table.add(f"asset page, {n:,} partitions, partition list shown ({visit} visit)", seconds(took))  # fmt: skip
            browser.close()


def backfill_child(home: Path, out: Path) -> None:
    """In its own process (so a budget can stop it): create the backfill as the UI does,
    then run the backfill daemon's iterations until it has created every run."""
    from dagster import DagsterInstance, RunsFilter
    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.storage.tags import BACKFILL_ID_TAG
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.utils import make_new_backfill_id
    from dagster._core.workspace.load_target import ModuleTarget
    from dagster._daemon.backfill import execute_backfill_iteration
    from dagster._utils.log import get_dagster_logger

    from mir.config import load_config
    from mir_assets.definitions import all_assets
    from mir_assets.selection import runnable_track_assets

    def note(**kw) -> None:
        with out.open("a") as f:
            f.write(json.dumps({"t": time.time(), **kw}) + "\n")

    instance = DagsterInstance.get()
    cfg = load_config(os.environ["MIR_CONFIG"])
    per_run = cfg.processing.tracks_per_run
    selection = runnable_track_assets(cfg, all_assets)
    target = ModuleTarget("mir_assets.definitions", None, str(ROOT), "mir")
    with create_test_daemon_workspace_context(target, instance) as workspace:
        asset_graph = workspace.create_request_context().asset_graph
        note(step="loaded")
        backfill_id = make_new_backfill_id()
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id=backfill_id, asset_graph=asset_graph, partition_names=None,
            asset_selection=list(selection), backfill_timestamp=time.time(), tags={},
            dynamic_partitions_store=instance, all_partitions=True, title=None,
            description=None, run_config=None,
        )  # fmt: skip
        instance.add_backfill(backfill)
        note(step="created", backfill_id=backfill_id, assets=len(selection))
        logger = get_dagster_logger("BackfillDaemon")
        expected = -(-len(instance.get_dynamic_partitions("tracks")) // per_run)
        for i in range(5):  # the first iteration should create every run
            list(execute_backfill_iteration(workspace, logger))
            runs = instance.get_runs_count(RunsFilter(tags={BACKFILL_ID_TAG: backfill_id}))
            note(step="iteration", i=i, runs=runs)
            if runs >= expected:
                break


def bench_backfill(table: Table, home: Path, n: int, per_run: int, budget_s: float) -> None:
    from dagster import DagsterInstance, RunsFilter
    from dagster._core.storage.tags import BACKFILL_ID_TAG

    out = home / "backfill.jsonl"
    log = open(home / "backfill.log", "w")
    started = time.time()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--backfill-child", str(home)],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    instance = DagsterInstance.get()
    expected = -(-n // per_run)
    try:
        while proc.poll() is None and time.time() - started < budget_s:
            time.sleep(2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
    notes = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    at = {x["step"]: x["t"] for x in reversed(notes)}
    if "created" not in at:
        table.add("backfill: not created within the budget", seconds(time.time() - started))
        print((home / "backfill.log").read_text()[-3000:])
        return
    table.add(f"backfill over {n:,} partitions created (the UI's from_asset_partitions, add_backfill)", seconds(at["created"] - at["loaded"]))  # fmt: skip
    backfill_id = next(x for x in notes if x["step"] == "created")["backfill_id"]
    made = sorted(r.create_timestamp.timestamp() for r in instance.get_run_records(RunsFilter(tags={BACKFILL_ID_TAG: backfill_id})))  # fmt: skip
    if not made:
        table.add("backfill daemon: no run created within the budget", seconds(time.time() - at["created"]))  # fmt: skip
        return
    table.add(f"backfill daemon: first run created ({per_run} tracks a run)", seconds(made[0] - at["created"]))  # fmt: skip
    if len(made) < expected:
        rate = (len(made) - 1) / (made[-1] - made[0]) if len(made) > 1 else float("nan")
        total = (made[0] - at["created"]) + expected / rate
        table.add(f"backfill daemon: {len(made):,} of {expected:,} runs created in {seconds(made[-1] - made[0])}, then stopped", f"{rate:.2f} runs/s")  # fmt: skip
        table.add(f"backfill daemon: all {expected:,} runs, EXTRAPOLATED at that rate", seconds(total))  # fmt: skip
    else:
        table.add(f"backfill daemon: all {expected:,} runs created (queued, not launched)", seconds(made[-1] - at["created"]))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1000, help="new files for the sensor's tick")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL store")
    parser.add_argument("--backfill-budget", type=float, default=420.0, help="seconds")
    parser.add_argument("--keep", type=Path, help="build the project here and keep it")
    parser.add_argument("--backfill-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backfill_child:
        backfill_child(args.backfill_child, args.backfill_child / "backfill.jsonl")
        return 0

    root = args.keep or Path(tempfile.mkdtemp(prefix="mir-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"project: {root}", flush=True)
    n, table = args.tracks, Table()
    try:
        config_path, home = setup_project(root, args.new)
        from dagster import DagsterInstance

        from mir.config import load_config
        from mir_assets.partitions import TRACKS
        from store.duckdb import DuckDBTables

        per_run = load_config(config_path).processing.tracks_per_run
        started = time.perf_counter()
        paths = known_files(root / "inbox", n)
        print(f"{n:,} stand-in files in {seconds(time.perf_counter() - started)}", flush=True)
        tables = DuckDBTables(root / "mir.duckdb")
        started = time.perf_counter()
        register(tables, paths)
        table.add(f"registry: {n:,} tracks registered ({BATCH:,} a call)", seconds(time.perf_counter() - started))  # fmt: skip
        track_ids = tables.track_ids()

        instance = DagsterInstance.get()
        started = time.perf_counter()
        for a in range(0, len(track_ids), BATCH):
            instance.add_dynamic_partitions(TRACKS, track_ids[a : a + BATCH])
        took = time.perf_counter() - started
        table.add(f"add {n:,} dynamic partitions ({BATCH:,} a call)", f"{seconds(took)} ({n / took:,.0f} /s)")  # fmt: skip

        bench_planning(table, config_path, n)
        bench_sensor(table, instance, config_path, root / "inbox", n, args.new)
        bench_store(table, tables, "DuckDB", track_ids)
        if not args.no_postgres:
            bench_postgres(table, track_ids)
        if not args.no_browser:
            shots = ROOT / "test-artifacts"
            shots.mkdir(exist_ok=True)
            bench_browser(table, home, config_path, n, shots)
        bench_backfill(table, home, n, per_run, args.backfill_budget)
        instance.dispose()
    finally:
        print()
        table.print()
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
