"""Steps on Celery workers (dagster-celery) over Redis, Dagster's storage and the feature
store on PostgreSQL: the "Scaling out" recipe of the README, run on loopback with two
workers standing in for two machines, one serving the GPU queue and one the CPU queue,
each reaching the shared library and inbox through a mount of its own (a symlink)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import yaml
from dagster import AssetKey, DagsterInstance, DagsterRunStatus
from dagster._core.execution.api import create_execution_plan
from dagster._core.execution.retries import RetryMode
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

from mir.info import info_path, read_info
from mir.synth import render_song
from mir_assets.executors import QueuedCeleryExecutor, read_celery_config
from resources.postgres_tables import PostgresTables
from tests.conftest import write_config
from tests.dagster_dev import (
    ROOT,
    dagster_dev_on_instance,
    graphql,
    stop_process_group,
    wait_until,
)
from tests.helpers import register
from tests.servers import create_database, postgres_server, redis_server

ASSETS = ["source_audio", "loudness", "spectral_features"]
#: no GPU asset runs without model weights: the test sends a cheap CPU asset to the GPU
#: queue, as config/celery.yaml's `queues.gpu_assets` allows
GPU_QUEUED = "loudness"
LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }
"""


def _song(seed: int) -> np.ndarray:
    return render_song(bpm=96 + 8 * seed, bars=2, seed=seed).mix


@contextmanager
def celery_worker(
    queue: str, machine: Path, celery_yaml: Path, env: dict[str, str]
) -> Iterator[Path]:
    """A `dagster-celery` worker named and serving `queue`, in its own folder (its working
    directory and DAGSTER_HOME) and environment; yields its log, stops it after."""
    log_path = machine / "worker.log"
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        **env,
        "DAGSTER_HOME": str(machine),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(bin_dir / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
             "-y", str(celery_yaml), "-q", queue, "-n", queue, "--loglevel", "INFO",
             "--", "--concurrency=1", "--without-gossip", "--without-mingle"],
            cwd=machine, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            ready = wait_until(
                lambda: proc.poll() is not None or " ready." in log_path.read_text(),
                timeout_s=120,
                interval_s=0.5,
            )
            assert ready and proc.poll() is None, log_path.read_text()[-3000:]
            yield log_path
        finally:
            stop_process_group(proc)


def test_gpu_assets_and_assets_named_in_the_config_are_sent_to_the_gpu_queue(monkeypatch):
    from mir_assets.definitions import defs

    monkeypatch.setenv("MIR_CELERY_BROKER", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("MIR_CELERY_BACKEND", "redis://127.0.0.1:6379/1")
    config, queues = read_celery_config(ROOT / "config" / "celery.yaml")
    executor = QueuedCeleryExecutor(
        retries=RetryMode.DISABLED, gpu_queue="gpu", gpu_pools={"gpu"}, gpu_assets={"loudness"}
    )
    plan = executor._with_queues(create_execution_plan(defs.resolve_job_def("track_job")))
    queued = {s.key: s.tags.get(DAGSTER_CELERY_QUEUE_TAG) for s in plan.get_all_steps_in_topo_order()}  # fmt: skip
    gpu = {k for k, q in queued.items() if q == "gpu"}
    assert {"stems", "classification", "aesthetics", "drum_transcription"} <= gpu
    assert "loudness" in gpu  # named in gpu_assets
    assert not {"source_audio", "spectral_features", "pitch_transcription"} & gpu
    assert set(queued.values()) == {"gpu", None}  # the rest: Celery's default queue
    assert config["config_source"]["task_default_queue"] == "cpu"
    assert queues["gpu"] == "gpu"


def test_a_backfill_runs_its_steps_on_a_gpu_and_a_cpu_celery_worker(project, tmp_path):
    write_config(project.root, processing={"tracks_per_run": 2})
    paths = [project.add_audio(f"t{i}.wav", _song(i)) for i in range(4)]
    with postgres_server() as pg_port, redis_server() as redis_port:
        # every machine's dagster.yaml: the Postgres instance of the README
        instance_config = yaml.safe_load((ROOT / "config" / "dagster-postgres.yaml").read_text())
        instance_config["storage"]["postgres"]["postgres_db"].update(
            {"hostname": "127.0.0.1", "port": pg_port, "username": "postgres",
             "password": "", "db_name": "dagster"}
        )  # fmt: skip
        celery_config = yaml.safe_load((ROOT / "config" / "celery.yaml").read_text())
        celery_config["queues"]["gpu_assets"] = [GPU_QUEUED]
        celery_yaml = tmp_path / "celery.yaml"
        celery_yaml.write_text(yaml.safe_dump(celery_config))
        store_url = create_database(pg_port, "mir")
        env = {
            "MIR_FEATURE_STORE": "postgres",
            "MIR_FEATURE_STORE_URL": store_url,
            "MIR_CONFIG": str(project.config_path),
            "MIR_CELERY_CONFIG": str(celery_yaml),
            "MIR_CELERY_BROKER": f"redis://127.0.0.1:{redis_port}/0",
            "MIR_CELERY_BACKEND": f"redis://127.0.0.1:{redis_port}/1",
        }
        machines = {}
        for name in ("webserver", "gpu", "cpu"):
            machines[name] = tmp_path / f"machine-{name}"
            machines[name].mkdir()
            (machines[name] / "dagster.yaml").write_text(yaml.safe_dump(instance_config))
        instance = DagsterInstance.from_config(str(machines["webserver"]))
        try:
            ids = register(project, paths, instance, PostgresTables(store_url, inbox=project.inbox))
            mounts = {}
            for name in ("gpu", "cpu"):  # the share, mounted at another place on each worker
                mounts[name] = tmp_path / f"mnt-{name}"
                mounts[name].symlink_to(project.root)
            mounted = {
                name: {**env, "MIR_INBOX": str(m / "inbox"), "MIR_LIBRARY": str(m / "library")}
                for name, m in mounts.items()
            }
            with (
                celery_worker("gpu", machines["gpu"], celery_yaml, mounted["gpu"]) as gpu_log,
                celery_worker("cpu", machines["cpu"], celery_yaml, mounted["cpu"]) as cpu_log,
                dagster_dev_on_instance(
                    machines["webserver"], {**env, "MIR_EXECUTOR": "celery"}
                ) as url,
            ):
                params = {
                    "partitionNames": ids,
                    "assetSelection": [{"path": [a]} for a in ASSETS],
                    "fromFailure": False,
                }
                launched = graphql(url, LAUNCH_BACKFILL, {"params": params})
                launched = launched["launchPartitionBackfill"]
                assert launched["__typename"] == "LaunchBackfillSuccess", launched
                backfill_id = launched["backfillId"]

                def finished():
                    b = instance.get_backfill(backfill_id)
                    done = ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED")
                    return b.status.value in done and b

                assert wait_until(finished, timeout_s=240), (
                    machines["webserver"] / "dagster_dev.log"
                ).read_text()[-3000:]
            runs = [r for r in instance.get_runs() if r.tags.get("dagster/backfill") == backfill_id]
            assert len(runs) == 2  # 4 tracks, 2 per run
            assert all(r.status == DagsterRunStatus.SUCCESS for r in runs), [
                (r.run_id, r.status) for r in runs
            ]
            # each step ran in the worker of its queue (the run's own event log says which)
            worker_of = {}
            for run in runs:
                for record in instance.all_logs(run.run_id):
                    event = record.dagster_event
                    if event and event.is_engine_event and "in celery worker" in event.message:
                        worker = event.engine_event_data.metadata["Celery worker"].value
                        worker_of.setdefault(record.step_key, set()).add(worker.split("@")[0])
            assert worker_of[GPU_QUEUED] == {"gpu"}, worker_of
            assert worker_of["source_audio"] == worker_of["spectral_features"] == {"cpu"}
            for asset in ASSETS:
                assert instance.get_materialized_partitions(AssetKey(asset)) == set(ids)
            # every track's rows in the shared feature store (no worker wrote a DuckDB file)
            tables = PostgresTables(store_url)
            for asset in ASSETS:
                assert set(tables.read(asset)) == set(ids), asset
            assert not project.duckdb.exists()
            # the registry and .INFO name the original relative to the inbox, which both
            # workers read through their own mounts
            for track_id in ids:
                stored = PostgresTables(store_url).track(track_id)["source_path"]
                assert stored == f"t{ids.index(track_id)}.wav", stored
                text = info_path(project.library / track_id).read_text()
                assert "mnt-" not in text and str(project.root) not in text
                assert read_info(info_path(project.library / track_id))["source_path"] == stored
        finally:
            instance.dispose()
    # each worker's own log shows the steps it ran
    gpu_text, cpu_text = gpu_log.read_text(), cpu_log.read_text()
    assert f'Finished execution of step "{GPU_QUEUED}"' in gpu_text
    assert 'Finished execution of step "source_audio"' in cpu_text
    assert 'Finished execution of step "spectral_features"' in cpu_text
    assert f'Finished execution of step "{GPU_QUEUED}"' not in cpu_text
    assert 'Finished execution of step "source_audio"' not in gpu_text
    # every track's keys in .INFO
    for track_id in ids:
        info = read_info(info_path(project.library / track_id))
        assert {"lufs", "lra", "spectral_flatness", "duration_s"} <= set(info), info.keys()
