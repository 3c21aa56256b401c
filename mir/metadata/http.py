"""JSON over HTTP (the standard library's urllib) to configurable base addresses: a
minimum interval between requests (MusicBrainz asks for one per second), retries of
429/503 answers and timeouts with exponential backoff, and every answer kept in a cache
folder so a re-run asks nothing again. Credentials never enter the cache keys or the logs.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mir.errors import MirError


class LookupError_(MirError):
    """A metadata service that could not be reached or answered with an error."""


class HttpClient:
    """JSON over HTTP with a minimum interval, retries with backoff, and a file cache."""

    def __init__(
        self,
        *,
        user_agent: str,
        cache_dir: Path | None,
        min_interval_s: float = 1.0,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        log: Callable[[str], None] | None = None,
    ):
        self.user_agent = user_agent
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.min_interval_s = min_interval_s
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.log = log or (lambda msg: None)
        self.requests = 0
        self._last = 0.0

    def _cache_file(self, key: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def get_json(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        cache: bool = True,
        data: bytes | None = None,
    ) -> Any:
        """GET (or POST `data`) `url` and decode JSON; cached answers are served from disk."""
        cache_file = self._cache_file(url) if cache else None
        if cache_file is not None and cache_file.exists():
            return json.loads(cache_file.read_text(encoding="utf-8"))
        request = urllib.request.Request(
            url,
            data=data,
            headers={
                "User-Agent": self.user_agent,
                "Accept": "application/json",
                **(headers or {}),
            },
        )
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            wait = self.min_interval_s - (time.monotonic() - self._last)
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
            self.requests += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    body = json.loads(response.read().decode("utf-8"))
                break
            except urllib.error.HTTPError as exc:
                if exc.code in (429, 500, 502, 503, 504) and attempt < self.retries:
                    retry_after = exc.headers.get("Retry-After") if exc.headers else None
                    pause = float(retry_after) if retry_after and retry_after.isdigit() else delay
                    self.log(f"{_safe(url)}: HTTP {exc.code}, retrying in {pause:.1f} s")
                    time.sleep(pause)
                    delay *= 2
                    continue
                raise LookupError_(f"{_safe(url)}: HTTP {exc.code}") from None
            except (urllib.error.URLError, TimeoutError) as exc:
                if attempt < self.retries:
                    self.log(f"{_safe(url)}: {exc}, retrying in {delay:.1f} s")
                    time.sleep(delay)
                    delay *= 2
                    continue
                raise LookupError_(f"{_safe(url)}: {exc}") from None
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            cache_file.write_text(json.dumps(body), encoding="utf-8")
        return body


def _safe(url: str) -> str:
    """The URL without its query string (which may carry a client key)."""
    return url.split("?", 1)[0]
