"""Release metadata: embedded tags, and a scored lookup in MusicBrainz and Spotify.

The clients speak plain HTTP (the standard library's urllib) to configurable base
addresses, wait at least `min_interval_s` between requests (MusicBrainz asks for one per
second), retry 429/503 answers and timeouts with exponential backoff, and keep every answer
in a cache folder so a re-run asks nothing again. Credentials never enter the cache keys,
the logs or the returned values.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mir.errors import MirError

VARIOUS_ARTISTS = {
    "various artists",
    "various",
    "va",
    "v/a",
    "v.a.",
    "compilation",
    "unknown",
    "unknown artist",
}


class LookupError_(MirError):
    """A metadata service that could not be reached or answered with an error."""


# -- embedded tags ------------------------------------------------------------------------


def embedded_tags(path: str | Path) -> dict[str, Any]:
    """`track_metadata_{artist,title,album,genre,year}` from the file's tags (mutagen)."""
    import mutagen

    try:
        tags = mutagen.File(str(path), easy=True)
    except Exception:
        return {}
    out: dict[str, Any] = {}
    if tags is None or not tags.tags:
        return out
    for key in ("artist", "title", "album", "genre"):
        value = tags.tags.get(key)
        if value:
            out[f"track_metadata_{key}"] = str(value[0]).strip()
    date = tags.tags.get("date") or tags.tags.get("year")
    if date and str(date[0])[:4].isdigit():
        out["track_metadata_year"] = int(str(date[0])[:4])
    return out


def parse_name(stem: str) -> tuple[str | None, str | None, str]:
    """(artist, album, title) from "Artist - Album - Title", "Artist - Title" or "Title"."""
    stem = re.sub(r"^\s*\d+\s*[-._]?\s*", "", stem).strip() or stem
    parts = [p.strip() for p in stem.split(" - ")]
    if len(parts) >= 3:
        return parts[0], parts[1], " - ".join(parts[2:])
    if len(parts) == 2:
        return parts[0], None, parts[1]
    return None, None, parts[0]


def valid_artist(artist: str | None) -> bool:
    return bool(artist and artist.strip() and artist.strip().lower() not in VARIOUS_ARTISTS)


# -- scoring ------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One recording a service proposed."""

    source: str
    title: str
    artist: str = ""
    artists: list[str] = field(default_factory=list)
    album: str = ""
    year: int | None = None
    release_date: str = ""
    duration_s: float | None = None
    id: str = ""
    isrc: str = ""
    label: str = ""
    genres: list[str] = field(default_factory=list)
    score: float = 0.0
    raw: dict = field(default_factory=dict, repr=False)


def score_candidate(
    c: Candidate, *, duration_s: float | None, year: int | None, artist: str | None
) -> float:
    """Duration (0.5), year (0.3) and artist similarity (0.2), as the original scores them."""
    score = 0.0
    if duration_s and c.duration_s:
        delta = abs(duration_s - c.duration_s)
        if delta < 2:
            score += 0.5
        elif delta <= 10:
            score += 0.5 - 0.4 * (delta - 2) / 8
        elif delta <= 30:
            score += 0.05
    if year and c.year:
        diff = abs(year - c.year)
        score += 0.3 if diff == 0 else 0.2 if diff == 1 else 0.1 if diff <= 3 else 0.0
    if artist and c.artist:
        score += (
            0.2
            * difflib.SequenceMatcher(
                None, artist.lower().strip(), c.artist.lower().strip()
            ).ratio()
        )
    return round(score, 4)


# -- HTTP ---------------------------------------------------------------------------------


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


# -- services -----------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    return re.sub(r"\s*[\(\[][^\)\]]*[\)\]]", "", title).strip() or title


class MusicBrainz:
    """Recording search (Lucene query) and ISRC lookup."""

    def __init__(self, http: HttpClient, base_url: str = "https://musicbrainz.org"):
        self.http = http
        self.base = base_url.rstrip("/")

    def search(self, title: str, artist: str | None) -> list[Candidate]:
        query = f'recording:"{_clean_title(title)}"'
        if valid_artist(artist):
            query += f' AND artist:"{artist}"'
        url = f"{self.base}/ws/2/recording?" + urllib.parse.urlencode(
            {"query": query, "limit": 5, "fmt": "json"}
        )
        out = []
        for rec in self.http.get_json(url).get("recordings", []):
            credits = rec.get("artist-credit") or []
            names = [c.get("name") or c.get("artist", {}).get("name", "") for c in credits]
            years = [
                int(r["date"][:4])
                for r in rec.get("releases", [])
                if str(r.get("date", ""))[:4].isdigit()
            ]
            dates = sorted(r["date"] for r in rec.get("releases", []) if r.get("date"))
            out.append(
                Candidate(
                    source="musicbrainz",
                    title=rec.get("title", ""),
                    artist=names[0] if names else "",
                    artists=names,
                    album=(rec.get("releases") or [{}])[0].get("title", ""),
                    year=min(years) if years else None,
                    release_date=dates[0] if dates else "",
                    duration_s=rec["length"] / 1000.0 if rec.get("length") else None,
                    id=rec.get("id", ""),
                    isrc=(rec.get("isrcs") or [""])[0],
                )
            )
        return out

    def isrc(self, recording_id: str) -> str:
        url = f"{self.base}/ws/2/recording/{recording_id}?" + urllib.parse.urlencode(
            {"inc": "isrcs", "fmt": "json"}
        )
        return (self.http.get_json(url).get("isrcs") or [""])[0]


class Spotify:
    """Track search with client credentials; the winner's album label and artist genres."""

    def __init__(
        self,
        http: HttpClient,
        client_id: str,
        client_secret: str,
        *,
        api_url: str = "https://api.spotify.com",
        accounts_url: str = "https://accounts.spotify.com",
    ):
        self.http = http
        self.api = api_url.rstrip("/")
        self.accounts = accounts_url.rstrip("/")
        self._id, self._secret = client_id, client_secret
        self._token: str | None = None

    def __repr__(self) -> str:  # never print the credentials
        return f"Spotify(api={self.api!r})"

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            basic = base64.b64encode(f"{self._id}:{self._secret}".encode()).decode()
            answer = self.http.get_json(
                f"{self.accounts}/api/token",
                headers={
                    "Authorization": f"Basic {basic}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                data=b"grant_type=client_credentials",
                cache=False,
            )
            self._token = answer["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def search(self, title: str, artist: str | None) -> list[Candidate]:
        queries = [f'track:"{title}" artist:"{artist}"'] if valid_artist(artist) else []
        queries += [f'track:"{title}"', title]
        for q in queries:
            url = f"{self.api}/v1/search?" + urllib.parse.urlencode(
                {"q": q, "type": "track", "limit": 5}
            )
            items = self.http.get_json(url, headers=self._auth()).get("tracks", {}).get("items", [])
            if items:
                return [self._candidate(t) for t in items]
        return []

    @staticmethod
    def _candidate(t: dict) -> Candidate:
        album = t.get("album", {})
        date = album.get("release_date", "")
        return Candidate(
            source="spotify",
            title=t.get("name", ""),
            artist=(t.get("artists") or [{}])[0].get("name", ""),
            artists=[a.get("name", "") for a in t.get("artists", [])],
            album=album.get("name", ""),
            year=int(date[:4]) if date[:4].isdigit() else None,
            release_date=date,
            duration_s=t["duration_ms"] / 1000.0 if t.get("duration_ms") else None,
            id=t.get("id", ""),
            isrc=t.get("external_ids", {}).get("isrc", ""),
            raw=t,
        )

    def enrich(self, c: Candidate) -> None:
        """The winner's album label and its first artist's genres."""
        track = c.raw
        album_id = track.get("album", {}).get("id")
        if album_id:
            c.label = self.http.get_json(
                f"{self.api}/v1/albums/{album_id}", headers=self._auth()
            ).get("label", "")
        artist_id = (track.get("artists") or [{}])[0].get("id")
        if artist_id:
            c.genres = self.http.get_json(
                f"{self.api}/v1/artists/{artist_id}", headers=self._auth()
            ).get("genres", [])


@dataclass
class LookupResult:
    values: dict[str, Any]
    candidates: int
    query: str


def lookup(
    *,
    tags: dict[str, Any],
    file_stem: str,
    duration_s: float | None,
    services: list,
    min_score: float = 0.5,
    fingerprint: Callable[[], tuple[str, str] | None] | None = None,
) -> LookupResult:
    """Choose the query (tags, then the file name, then a fingerprint), ask every service,
    score every candidate and keep the best one if it reaches `min_score`.

    Returns the `.INFO` values: `metadata_lookup_score`, `metadata_lookup_runner_up_score`,
    `metadata_lookup_source`, and for a winner `release_year`, `release_date`, `artists`,
    `album`, `musicbrainz_id` or `spotify_id`, `isrc`, `label`, `genres`.
    """
    name_artist, _, name_title = parse_name(file_stem)
    if valid_artist(tags.get("track_metadata_artist")) and tags.get("track_metadata_title"):
        artist, title = tags["track_metadata_artist"], tags["track_metadata_title"]
    elif valid_artist(name_artist):
        artist, title = name_artist, name_title
    else:
        artist, title = None, tags.get("track_metadata_title") or name_title
    year = tags.get("track_metadata_year")

    def ask(title: str, artist: str | None) -> list[Candidate]:
        found: list[Candidate] = []
        for service in services:
            found += service.search(title, artist)
        return found

    candidates = ask(title, artist)
    if not candidates and fingerprint is not None:
        hit = fingerprint()
        if hit:
            title, artist = hit
            candidates = ask(title, artist)
    for c in candidates:
        c.score = score_candidate(c, duration_s=duration_s, year=year, artist=artist)
    ranked = sorted(candidates, key=lambda c: -c.score)
    values: dict[str, Any] = {
        "metadata_lookup_attempted": True,
        "metadata_lookup_score": ranked[0].score if ranked else 0.0,
        "metadata_lookup_runner_up_score": ranked[1].score if len(ranked) > 1 else 0.0,
    }
    query = f"{artist or '?'} - {title}"
    if not ranked or ranked[0].score < min_score:
        values["metadata_lookup_source"] = "none"
        return LookupResult(values, len(candidates), query)
    best = ranked[0]
    values["metadata_lookup_source"] = best.source
    if best.source == "spotify":
        for service in services:
            if isinstance(service, Spotify):
                service.enrich(best)
    if best.year:
        values["release_year"] = best.year
    for key, value in (
        ("release_date", best.release_date),
        ("album", best.album),
        ("isrc", best.isrc),
        ("label", best.label),
    ):
        if value:
            values[key] = value
    if best.artists:
        values["artists"] = best.artists
    if best.genres:
        values["genres"] = best.genres
    values["musicbrainz_id" if best.source == "musicbrainz" else "spotify_id"] = best.id
    if best.source == "musicbrainz" and not best.isrc:
        for service in services:
            if isinstance(service, MusicBrainz):
                isrc = service.isrc(best.id)
                if isrc:
                    values["isrc"] = isrc
    return LookupResult(values, len(candidates), query)


def acoustid_fingerprint(
    path: Path, *, api_key: str, http: HttpClient, base_url: str = "https://api.acoustid.org"
) -> tuple[str, str] | None:
    """(title, first artist) of the best AcoustID match of `fpcalc -json`, or None."""
    import shutil
    import subprocess

    fpcalc = shutil.which("fpcalc")
    if fpcalc is None or not api_key:
        return None
    proc = subprocess.run([fpcalc, "-json", str(path)], capture_output=True, text=True, timeout=60)
    # fpcalc exits non-zero on a benign "end of file" decode warning yet prints a good
    # fingerprint: trust the output, not the exit code
    try:
        fp = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return None
    if not fp.get("fingerprint"):
        return None
    data = urllib.parse.urlencode(
        {
            "client": api_key,
            "duration": int(fp["duration"]),
            "fingerprint": fp["fingerprint"],
            "meta": "recordings",
        }
    ).encode()
    answer = http.get_json(f"{base_url.rstrip('/')}/v2/lookup", data=data, cache=False)
    for result in sorted(answer.get("results", []), key=lambda r: -r.get("score", 0)):
        for rec in result.get("recordings", []):
            if rec.get("title"):
                artists = rec.get("artists") or [{}]
                return rec["title"], artists[0].get("name", "")
    return None
