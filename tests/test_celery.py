"""Steps on Celery workers (dagster-celery) over Redis, Dagster's storage and the feature
store on PostgreSQL: the "Scaling out" recipe of the docs, run on loopback with two
workers standing in for two machines, one serving the GPU queue and one the CPU queue,
each reaching the shared library and inbox through a mount of its own (a symlink)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
from store.postgres import PostgresTables
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


@dataclass
class Worker:
    proc: subprocess.Popen
    log: Path


@contextmanager
def celery_worker(
    name: str, machine: Path, celery_yaml: Path, env: dict[str, str], *, queue: str = ""
) -> Iterator[Worker]:
    """A `dagster-celery` worker named `name` serving `queue` (default: its name), in its
    own folder (its working directory and DAGSTER_HOME) and environment, in a process
    group of its own; stops it after."""
    queue = queue or name
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
             "-y", str(celery_yaml), "-q", queue, "-n", name, "--loglevel", "INFO",
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
            yield Worker(proc, log_path)
        finally:
            stop_process_group(proc)


def test_gpu_assets_and_assets_named_in_the_config_are_sent_to_the_gpu_queue(monkeypatch):
    from mir_assets.definitions import location

    monkeypatch.setenv("MIR_CELERY_BROKER", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("MIR_CELERY_BACKEND", "redis://127.0.0.1:6379/1")
    config, queues = read_celery_config(ROOT / "config" / "celery.yaml")
    executor = QueuedCeleryExecutor(
        retries=RetryMode.DISABLED, gpu_queue="gpu", gpu_pools={"gpu"}, gpu_assets={"loudness"}
    )
    plan = executor._with_queues(
        create_execution_plan(location().definitions.resolve_job_def("track_job"))
    )
    queued = {s.key: s.tags.get(DAGSTER_CELERY_QUEUE_TAG) for s in plan.get_all_steps_in_topo_order()}  # fmt: skip
    gpu = {k for k, q in queued.items() if q == "gpu"}
    assert {"stems", "classification", "aesthetics", "drum_transcription"} <= gpu
    assert "loudness" in gpu  # named in gpu_assets
    assert not {"source_audio", "spectral_features", "pitch_transcription"} & gpu
    assert set(queued.values()) == {"gpu", None}  # the rest: Celery's default queue
    assert config["config_source"]["task_default_queue"] == "cpu"
    assert queues["gpu"] == "gpu"


@dataclass
class Cluster:
    """Dagster's storage and the feature store on one PostgreSQL server, Redis, and a
    folder per machine holding its dagster.yaml (its DAGSTER_HOME)."""

    instance: DagsterInstance
    store: PostgresTables
    env: dict[str, str]
    celery_yaml: Path
    tmp_path: Path
    instance_yaml: str

    def machine(self, name: str) -> Path:
        folder = self.tmp_path / f"machine-{name}"
        if not folder.exists():
            folder.mkdir()
            (folder / "dagster.yaml").write_text(self.instance_yaml)
        return folder

    def mounted(self, name: str, share: Path) -> dict[str, str]:
        """The environment of a worker that reaches the share (the project folder, its
        inbox and library) through a mount of its own, a symlink."""
        mount = self.tmp_path / f"mnt-{name}"
        mount.symlink_to(share)
        return {**self.env, "MIR_INBOX": str(mount / "inbox"), "MIR_LIBRARY": str(mount / "library")}  # fmt: skip

    def backfill(self, url: str, ids: list[str], assets: list[str]) -> str:
        params = {
            "partitionNames": ids,
            "assetSelection": [{"path": [a]} for a in assets],
            "fromFailure": False,
        }
        launched = graphql(url, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        return launched["backfillId"]

    def wait_for(self, backfill_id: str, timeout_s: float) -> list:
        """The runs of a backfill once it has finished."""

        def finished():
            b = self.instance.get_backfill(backfill_id)
            done = ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED")
            return b.status.value in done and b

        log = self.machine("webserver") / "dagster_dev.log"
        assert wait_until(finished, timeout_s=timeout_s), log.read_text()[-3000:]
        return [
            r for r in self.instance.get_runs() if r.tags.get("dagster/backfill") == backfill_id
        ]

    def workers_of(self, runs) -> dict[str, set[str]]:
        """{step key: names of the Celery workers that ran it}, from the runs' event logs."""
        worker_of: dict[str, set[str]] = {}
        for run in runs:
            for record in self.instance.all_logs(run.run_id):
                event = record.dagster_event
                if event and event.is_engine_event and "in celery worker" in event.message:
                    worker = event.engine_event_data.metadata["Celery worker"].value
                    worker_of.setdefault(record.step_key, set()).add(worker.split("@")[0])
        return worker_of


@contextmanager
def cluster(project, tmp_path: Path, *, celery_settings: dict | None = None, gpu_assets=()) -> Iterator[Cluster]:  # fmt: skip
    with postgres_server() as pg_port, redis_server() as redis_port:
        # every machine's dagster.yaml: the Postgres instance of the docs (Scaling out)
        instance_config = yaml.safe_load((ROOT / "config" / "dagster-postgres.yaml").read_text())
        instance_config["storage"]["postgres"]["postgres_db"].update(
            {"hostname": "127.0.0.1", "port": pg_port, "username": "postgres",
             "password": "", "db_name": "dagster"}
        )  # fmt: skip
        celery_config = yaml.safe_load((ROOT / "config" / "celery.yaml").read_text())
        celery_config["queues"]["gpu_assets"] = list(gpu_assets)
        celery_config["execution"]["config"]["config_source"].update(celery_settings or {})
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
        webserver = tmp_path / "machine-webserver"
        webserver.mkdir()
        (webserver / "dagster.yaml").write_text(yaml.safe_dump(instance_config))
        instance = DagsterInstance.from_config(str(webserver))
        try:
            yield Cluster(
                instance,
                PostgresTables(store_url, inbox=project.inbox),
                env,
                celery_yaml,
                tmp_path,
                yaml.safe_dump(instance_config),
            )
        finally:
            instance.dispose()


def test_a_backfill_runs_its_steps_on_a_gpu_and_a_cpu_celery_worker(project, tmp_path):
    write_config(project.root, processing={"tracks_per_run": 2})
    paths = [project.add_audio(f"t{i}.wav", _song(i)) for i in range(4)]
    with cluster(project, tmp_path, gpu_assets=[GPU_QUEUED]) as c:
        ids = register(project, paths, c.instance, c.store)
        # the share, mounted at another place on each worker
        gpu_env, cpu_env = c.mounted("gpu", project.root), c.mounted("cpu", project.root)
        with (
            celery_worker("gpu", c.machine("gpu"), c.celery_yaml, gpu_env) as gpu,
            celery_worker("cpu", c.machine("cpu"), c.celery_yaml, cpu_env) as cpu,
            dagster_dev_on_instance(c.machine("webserver"), {**c.env, "MIR_EXECUTOR": "celery"}) as url,
        ):  # fmt: skip
            runs = c.wait_for(c.backfill(url, ids, ASSETS), timeout_s=240)
        assert len(runs) == 2  # 4 tracks, 2 per run
        assert all(r.status == DagsterRunStatus.SUCCESS for r in runs), [
            (r.run_id, r.status) for r in runs
        ]
        # each step ran in the worker of its queue (the run's own event log says which)
        worker_of = c.workers_of(runs)
        assert worker_of[GPU_QUEUED] == {"gpu"}, worker_of
        assert worker_of["source_audio"] == worker_of["spectral_features"] == {"cpu"}
        for asset in ASSETS:
            assert c.instance.get_materialized_partitions(AssetKey(asset)) == set(ids)
        # every track's rows in the shared feature store (no worker wrote a DuckDB file)
        for asset in ASSETS:
            assert set(c.store.read(asset)) == set(ids), asset
        assert not project.duckdb.exists()
        # the registry and .INFO name the original relative to the inbox, which both
        # workers read through their own mounts
        for i, track_id in enumerate(ids):
            stored = PostgresTables(c.store.url).track(track_id)["source_path"]
            assert stored == f"t{i}.wav", stored
            text = info_path(project.library / track_id).read_text()
            assert "mnt-" not in text and str(project.root) not in text
            assert read_info(info_path(project.library / track_id))["source_path"] == stored
    # each worker's own log shows the steps it ran
    gpu_text, cpu_text = gpu.log.read_text(), cpu.log.read_text()
    assert f'Finished execution of step "{GPU_QUEUED}"' in gpu_text
    assert 'Finished execution of step "source_audio"' in cpu_text
    assert 'Finished execution of step "spectral_features"' in cpu_text
    assert f'Finished execution of step "{GPU_QUEUED}"' not in cpu_text
    assert 'Finished execution of step "source_audio"' not in gpu_text
    # every track's keys in .INFO
    for track_id in ids:
        info = read_info(info_path(project.library / track_id))
        assert {"lufs", "lra", "spectral_flatness", "duration_s"} <= set(info), info.keys()


#: a feature module whose step takes a while and leaves a mark as it starts a track
SLOW_MODULE = '''
"""A slow feature: the test kills the worker that runs it."""

import os
import time
from pathlib import Path

from mir.family import Family, Feature, Track


def slow_pid(track: Track) -> dict:
    (Path(os.environ["MIR_TEST_MARKS"]) / f"{os.getpid()}-{track.out_dir.name}").touch()
    time.sleep(3)
    return {"slow_pid": os.getpid()}


FAMILY = Family(
    name="slow_feature",
    group="spectral",
    version="1",
    keys=(Feature("slow_pid", 0, 4194304, "", "the process that computed it"),),
    compute=slow_pid,
    consumers=(),
)
'''


def test_a_worker_killed_mid_step_leaves_no_partial_write_and_its_step_runs_again(
    project, tmp_path
):
    config = yaml.safe_load(
        write_config(project.root, processing={"tracks_per_run": 2}).read_text()
    )
    config["feature_modules"] = ["features/slow.py"]
    project.config_path.write_text(yaml.safe_dump(config))
    (project.root / "features").mkdir()
    (project.root / "features" / "slow.py").write_text(SLOW_MODULE)
    marks = tmp_path / "marks"
    marks.mkdir()
    paths = [project.add_audio(f"t{i}.wav", _song(i)) for i in range(2)]
    # a step not acknowledged within 20 s of its delivery goes back to the queue, looked
    # for every 5 s (kombu's default: every 10th look, 10 s apart)
    visibility = {
        "broker_transport_options": {
            "visibility_timeout": 20, "unacked_restore_interval": 5, "unacked_restore_throttle": 1,
        }
    }  # fmt: skip
    with cluster(project, tmp_path, celery_settings=visibility) as c:
        ids = register(project, paths, c.instance, c.store)
        env = {**c.env, "MIR_TEST_MARKS": str(marks)}
        with (
            dagster_dev_on_instance(c.machine("webserver"), {**env, "MIR_EXECUTOR": "celery"}) as url,
            celery_worker("cpu-a", c.machine("a"), c.celery_yaml, env, queue="cpu") as a,
        ):  # fmt: skip
            backfill_id = c.backfill(url, ids, ["source_audio", "slow_feature"])
            assert wait_until(lambda: any(marks.iterdir()), timeout_s=240), a.log.read_text()[
                -3000:
            ]
            killed_pid = int(next(marks.iterdir()).name.split("-")[0])
            os.killpg(a.proc.pid, signal.SIGKILL)  # the machine dies mid-step
            with celery_worker("cpu-b", c.machine("b"), c.celery_yaml, env, queue="cpu") as b:
                runs = c.wait_for(backfill_id, timeout_s=240)
        assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS], b.log.read_text()[-3000:]
        # the step that was cut short ran again, whole, on the other worker
        assert c.workers_of(runs)["slow_feature"] == {"cpu-a", "cpu-b"}
        assert 'Finished execution of step "slow_feature"' in b.log.read_text()
        rows = c.store.read("slow_feature")
        assert set(rows) == set(ids)
        for track_id in ids:
            assert rows[track_id]["slow_pid"] != killed_pid
            info = read_info(info_path(project.library / track_id))
            assert info["slow_pid"] == rows[track_id]["slow_pid"]
            # nothing half-written beside it (safe_update's temporary files are gone)
            assert not [p.name for p in (project.library / track_id).iterdir() if ".tmp" in p.name]
