"""One progress display for every command: a tqdm bar over the items (tracks, files),
with what is being done now as its postfix, elapsed time and the time remaining."""

from __future__ import annotations

import sys
import time


class Progress:
    """A bar of `total` items on stderr (stdout stays for results and summaries)."""

    def __init__(self, total: int, *, unit: str = "track", desc: str = ""):
        from tqdm import tqdm

        self.started = time.monotonic()
        self.bar = tqdm(
            total=total,
            unit=unit,
            desc=desc,
            file=sys.stderr,
            dynamic_ncols=True,
            mininterval=0.5,
            smoothing=0.1,
        )

    def update(self, step: str, item: str) -> None:
        """Show what is being done now (e.g. the asset and the track)."""
        self.bar.set_postfix_str(f"{step}: {item}", refresh=False)

    def write(self, message: str, *, err: bool = False) -> None:
        """Print a line (a result, an error) without breaking the bar."""
        self.bar.write(message, file=sys.stderr if err else sys.stdout)

    def done(self, n: int = 1) -> None:
        """`n` more items are finished."""
        self.bar.update(n)

    def finish(self) -> None:
        self.bar.close()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def fmt_s(seconds: float) -> str:
    """Seconds as m:ss."""
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}:{seconds % 60:02d}"
