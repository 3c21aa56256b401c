"""Servers a test starts on loopback from Debian's packages, and stops after."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.dagster_dev import free_port


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise RuntimeError(
            "PostgreSQL server binaries not found: install Debian's postgresql (make setup-dev does)"
        )
    return versions[-1]


def _as_postgres_user(args: list[str]) -> list[str]:
    # the server refuses to run as root
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def postgres_server(db_name: str = "dagster") -> Iterator[int]:
    """Yield the port of a PostgreSQL server on 127.0.0.1 with database `db_name`
    (user `postgres`, no password); stop it and remove its files after."""
    bin_dir, port = _pg_bin(), free_port()
    # not under pytest's tmp_path: its parents are closed to the server's own user
    base = Path(tempfile.mkdtemp(prefix="mir-pg-"))
    data, sockets = base / "pgdata", base / "pgsock"
    data.mkdir()
    sockets.mkdir()
    if os.geteuid() == 0:
        for p in (base, data, sockets):
            shutil.chown(p, "postgres")
    subprocess.run(_as_postgres_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    subprocess.run(_as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(base / "pg.log"), "start"]),
                   check=True, capture_output=True)  # fmt: skip
    try:
        subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", db_name],
                       check=True, capture_output=True)  # fmt: skip
        yield port
    finally:
        subprocess.run(
            _as_postgres_user(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
            ),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def create_database(port: int, name: str) -> str:
    """Create database `name` on the server of :func:`postgres_server`; returns its URL."""
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return f"postgresql://postgres@127.0.0.1:{port}/{name}"


@contextmanager
def redis_server(timeout_s: float = 30.0) -> Iterator[int]:
    """Yield the port of a Redis server (Debian's redis-server) on 127.0.0.1, in memory
    only; stop it after."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: install Debian's redis-server (make setup-dev does)")  # fmt: skip
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mir-redis-"))
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--logfile", str(workdir / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout_s
        while not _answers_ping(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {_tail(workdir / 'redis.log')}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _tail(path: Path, chars: int = 2000) -> str:
    return path.read_text()[-chars:] if path.exists() else ""
