"""The dated tables of docs/benchmarks.md, written by the bench scripts themselves.

Every script under `bench/` ends with `raise SystemExit(run(main))`. Run with
`--write-docs`, it prints as always, and when it finishes without an error, the text it
printed goes into `docs/benchmarks/<script>.md` with the date, the command line and the
machine (CPU model and count, GPU when torch sees one). The Benchmarks page shows every
such file (docs/hooks.py), so a table there is the script's output of that day, never a
copy pasted by hand:

    .venv/bin/python bench/accuracy.py /path/to/dev-clips --write-docs

Without the option nothing is written and the script is as it was.
"""

from __future__ import annotations

import datetime
import io
import os
import platform
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: where the scripts' tables go (excluded from the site's pages: the Benchmarks page
#: includes them)
TABLES = ROOT / "docs" / "benchmarks"
OPTION = "--write-docs"


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, out):
        self.out = out
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()

    def isatty(self) -> bool:
        return self.out.isatty()

    @property
    def encoding(self):
        return self.out.encoding


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else the platform's)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """The machine in a line: CPU model, the cores this process may use, the GPU if any."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    line = f"{cpu_model()}, {cores} cores, {platform.system()} {platform.machine()}"
    torch = sys.modules.get("torch")  # only when the script loaded it: no import for this
    if torch is not None and torch.cuda.is_available():
        line += f", GPU {torch.cuda.get_device_name(0)}"
    return line


def write_table(
    name: str,
    title: str,
    command: str,
    text: str,
    *,
    folder: Path | None = None,
    day: datetime.date | None = None,
) -> Path:
    """Write a script's printed table as `folder/<name>.md`, replacing the last one.

    Parameters
    ----------
    name : str
        The script's name without `.py` (`accuracy`): the file's name.
    title : str
        A line saying what it measures (the script's docstring's first line).
    command : str
        The command line it ran with, as a user types it.
    text : str
        What it printed.
    folder : Path, optional
        Default :data:`TABLES` (`docs/benchmarks/`).
    day : date, optional
        The day it ran; default today.

    Returns
    -------
    Path
        The file written.
    """
    day = day or datetime.date.today()
    folder = folder or TABLES
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    body = text.rstrip("\n").replace("```", "'''")
    path.write_text(
        f"### {title.rstrip('.')} ({day.isoformat()})\n\n"
        f"Written by `bench/{name}.py` on {day.isoformat()}, on {machine()}:\n\n"
        f"```bash\n{command}\n```\n\n"
        f"```\n{body}\n```\n",
        encoding="utf-8",
    )
    return path


def run(main: Callable[[], int | None]) -> int | None:
    """Run a bench script's `main`; with `--write-docs` on the command line (taken out
    before `main` reads it), keep what it prints and write it with :func:`write_table`
    once it finished without an error (a nonzero status writes nothing).

    Parameters
    ----------
    main : callable
        The script's `main()`, which parses `sys.argv` itself.

    Returns
    -------
    int or None
        What `main` returned (the exit status).
    """
    if OPTION not in sys.argv[1:]:
        return main()
    sys.argv = [a for a in sys.argv if a != OPTION]
    script = Path(sys.argv[0])
    command = shlex.join([".venv/bin/python", f"bench/{script.name}", *sys.argv[1:]])
    # the docstring's first paragraph, up to its colon: "Tempo, beats, downbeats and key"
    first = (sys.modules["__main__"].__doc__ or script.stem).strip().split("\n\n")[0]
    doc = " ".join(first.split()).split(": ")[0]
    tee = _Tee(sys.stdout)
    sys.stdout = tee
    try:
        status = main()
    finally:
        sys.stdout = tee.out
    if not status:
        path = write_table(script.stem, doc, command, tee.kept.getvalue())
        print(f"table written to {path}")
    return status
