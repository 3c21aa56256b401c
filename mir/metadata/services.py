"""The metadata services: MusicBrainz, Spotify and AcoustID."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from pathlib import Path

from mir.metadata.http import HttpClient
from mir.metadata.scoring import Candidate
from mir.metadata.tags import valid_artist


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
