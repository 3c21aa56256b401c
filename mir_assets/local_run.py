"""How `mir run` executes: one Dagster run per track, on worker processes side by side.

Each track is materialized by its own in-process Dagster run (the same definitions,
instance and feature store as the UI), so one track's failure never touches another's
assets and the UI shows every run. Tracks are handed to `processing.workers` worker
processes as they become free (by default one per core, never more than there are
tracks): two tracks are analysed at once on a 2-core machine. A worker keeps its models
and resources for every track it runs; each worker is given its share of the cores for
its numeric libraries, so two workers do not fight over four threads.

A single worker runs in this process (what the tests and a 1-core machine use).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

#: environment variables that size the thread pools of numpy's BLAS, numba and ours
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "MIR_THREADS",
)
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass
class TrackResult:
    """What one track's run did: per asset its state ("ok", "failed", "skipped") and step
    time in seconds, and the error of each failed asset or range check."""

    track_id: str
    states: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class _Worker:
    """The definitions, instance and resources of one process, set up once."""

    def __init__(self, config_path: str, progress: Callable[[str, str], None] | None):
        from dagster import DagsterInstance

        import mir_assets.runtime as runtime
        from mir_assets.definitions import all_assets, all_checks, make_resources

        self.instance = DagsterInstance.get()
        self.definitions = [*all_assets, *all_checks]
        self.resources = make_resources(config_path, keep_models_between_runs=True)
        runtime.progress_callback = progress

    def run(self, track_id: str, todo: list[str]) -> TrackResult:
        from dagster import materialize

        result = materialize(
            self.definitions,
            selection=todo,
            partition_key=track_id,
            instance=self.instance,
            resources=self.resources,
            raise_on_error=False,
            run_config=QUIET_RUN_CONFIG,
            tags={"mir/launched_by": "mir run"},
        )
        out = TrackResult(track_id)
        for event in result.all_events:
            step = event.step_key
            if step not in todo:
                continue
            if event.is_step_success:
                out.states[step] = "ok"
                out.seconds[step] = event.step_success_data.duration_ms / 1000.0
            elif event.is_step_failure:
                out.states[step] = "failed"
                err = event.step_failure_data.error
                out.errors[step] = err.message.strip().splitlines()[0] if err else "?"
            elif event.is_step_skipped:
                out.states[step] = "skipped"
        for evaluation in result.get_asset_check_evaluations():
            if not evaluation.passed:
                name = evaluation.asset_key.path[-1]
                out.errors[f"{name} range check"] = evaluation.description or "failed"
        for name in todo:  # not run because something upstream failed
            out.states.setdefault(name, "skipped")
        return out


_worker: _Worker | None = None


def _init_process(config_path: str, queue) -> None:
    global _worker
    _worker = _Worker(config_path, lambda asset, track: queue.put((asset, track)))


def _run_in_process(track_id: str, todo: list[str]) -> TrackResult:
    return _worker.run(track_id, todo)


def worker_count(requested: int, n_tracks: int) -> int:
    """`processing.workers` (0 = one per core), never more than the tracks to run."""
    cores = os.cpu_count() or 1
    return max(1, min(requested or cores, n_tracks))


class WorkerPool:
    """`workers` worker processes started ahead of the tracks they will run: each imports
    the definitions and sets up its resources (seconds) while the caller registers the
    inbox and plans the runs. Give it to :func:`run_tracks`; :meth:`close` it if unused.
    """

    def __init__(self, config_path: str, workers: int):
        self.config_path, self.workers = config_path, workers
        self.context = multiprocessing.get_context("spawn")
        self.queue = self.context.Queue()
        self.pool: ProcessPoolExecutor | None = self.new_pool()
        self.pool.submit(_ready)  # a spawn pool starts every process on its first task

    def new_pool(self) -> ProcessPoolExecutor:
        """A pool of `workers` processes, each given its share of the cores."""
        share = str(max(1, (os.cpu_count() or 1) // self.workers))
        saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
        os.environ.update({name: share for name in THREAD_VARIABLES})
        try:
            return ProcessPoolExecutor(
                self.workers,
                mp_context=self.context,
                initializer=_init_process,
                initargs=(self.config_path, self.queue),
            )
        finally:
            _restore(saved)

    def take(self) -> ProcessPoolExecutor:
        """The started pool the first time, a new one after (when a worker died)."""
        pool, self.pool = self.pool, None
        return pool or self.new_pool()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def _ready() -> None:
    """The first task of a :class:`WorkerPool`: nothing (the initializer is the work)."""


def run_tracks(
    plan: dict[str, list[str]],
    *,
    config_path: str,
    workers: int,
    on_progress: Callable[[str, str], None],
    on_result: Callable[[TrackResult], None],
    pool: WorkerPool | None = None,
) -> None:
    """Materialize `plan` ({track: assets to run}) and report each track as it finishes.

    A worker process that dies (killed, out of memory) fails the tracks it was running,
    with that reason; the other tracks go on in a new worker. `pool`: workers started
    ahead (:class:`WorkerPool`), used when the plan runs on `workers` processes.
    """
    items = [(t, todo) for t, todo in plan.items() if todo]
    if workers <= 1 or len(items) <= 1:
        if pool is not None:
            pool.close()
        worker = _Worker(config_path, on_progress)
        for track_id, todo in items:
            on_result(worker.run(track_id, todo))
        return
    if pool is None or pool.workers != workers or pool.config_path != config_path:
        if pool is not None:
            pool.close()
        pool = WorkerPool(config_path, workers)
    _run_parallel(items, pool, on_progress, on_result)


def _run_parallel(items, workers: WorkerPool, on_progress, on_result) -> None:
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                asset, track = workers.queue.get(timeout=0.2)
            except Exception:  # queue.Empty, or the queue closed at the end
                continue
            on_progress(asset, track)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    pending = list(items)
    try:
        while pending:
            pending = _drain_pool(workers.take(), pending, workers.workers, on_result)
    finally:
        workers.close()
        stop.set()
        reader.join()


def _drain_pool(pool, pending: list, workers: int, on_result) -> list:
    """Keep `workers` tracks in flight until done; returns the tracks not yet started when
    the pool broke (a worker died), after failing the ones it was running."""
    in_flight = {}
    queue = list(pending)
    try:
        while queue or in_flight:
            while queue and len(in_flight) < workers:
                track_id, todo = queue.pop(0)
                in_flight[pool.submit(_run_in_process, track_id, todo)] = (track_id, todo)
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            lost = []
            for future in done:
                track_id, todo = in_flight.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    lost.append((track_id, todo))
                    continue
                on_result(result)
            if lost:  # the pool is gone: everything it was running is lost with it
                _report_lost(on_result, [*lost, *in_flight.values()])
                return queue
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return []


def _report_lost(on_result, lost: Iterable[tuple[str, list[str]]]) -> None:
    reason = "the worker process running this track died (killed, or out of memory)"
    for track_id, todo in lost:
        on_result(
            TrackResult(
                track_id,
                states={name: "failed" for name in todo},
                errors={todo[0]: reason},
            )
        )


def _restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
