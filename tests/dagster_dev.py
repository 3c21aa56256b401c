"""Run `dagster dev` (webserver + daemon) for a test, on loopback, in its own process group."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dagster_dev(
    home: Path, config_path: Path, module: str = "mir_assets.definitions", timeout_s: float = 180.0
):
    """Yield the base URL of a running `dagster dev` on the default local instance
    (`config/dagster.yaml` copied into `home`) with `config_path` as the pipeline's
    configuration; stop the whole process group after."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "dagster.yaml", home / "dagster.yaml")
    with dagster_dev_on_instance(home, {"MIR_CONFIG": str(config_path)}, module, timeout_s) as url:
        yield url


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        answer = json.loads(r.read())
    if answer.get("errors"):
        raise RuntimeError(answer["errors"])
    return answer["data"]


def wait_for_location(url: str, deadline: float) -> None:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }"
    while time.monotonic() < deadline:
        entries = graphql(url, query)["workspaceOrError"].get("locationEntries", [])
        states = [
            e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"] for e in entries
        ]
        if states and all(s == "RepositoryLocation" for s in states):
            return
        if "PythonError" in states:
            raise RuntimeError(f"code location failed to load: {entries}")
        time.sleep(1)
    raise TimeoutError("the code location did not load")


def wait_until(predicate, timeout_s: float, interval_s: float = 2.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    return predicate()


@contextmanager
def dagster_dev_on_instance(
    home: Path,
    env: dict[str, str],
    module: str = "mir_assets.definitions",
    timeout_s: float = 180.0,
):
    """:func:`dagster_dev` on the instance that `home/dagster.yaml` (written by the caller)
    describes, with `env` added to the environment; yield the base URL, stop the whole
    process group after."""
    workspace = home / "workspace.yaml"
    workspace.write_text(
        f"load_from:\n  - python_module:\n      module_name: {module}\n      location_name: mir\n"
        f"      working_directory: {ROOT}\n"
    )
    port = free_port()
    env = {**os.environ, **env, "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    log_path = home / "dagster_dev.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while not _serves(url):
                if proc.poll() is not None:
                    raise RuntimeError(f"dagster dev exited: {log_path.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise TimeoutError("dagster dev did not answer /server_info")
                time.sleep(1)
            wait_for_location(url, deadline)
            yield url
        finally:
            stop_process_group(proc)


def _serves(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def stop_process_group(proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """SIGTERM the process group `proc` leads, then SIGKILL what is left of the group
    (children that outlive their leader too)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
