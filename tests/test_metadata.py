"""Metadata lookup against a real HTTP server on loopback replaying recorded answers."""

import time

import numpy as np
import pytest

from mir.metadata.http import HttpClient, LookupError_
from mir.metadata.scoring import Candidate, score_candidate
from mir.metadata.search import lookup
from mir.metadata.services import MusicBrainz, Spotify
from mir.metadata.tags import embedded_tags
from tests.replay_server import ReplayServer, fixture

MB_SEARCH = "/ws/2/recording?"
MB_RECORDING = "/ws/2/recording/"


def _client(tmp_path, **kw):
    args = {
        "user_agent": "mir-platform-tests/1.0",
        "cache_dir": tmp_path / "cache",
        "min_interval_s": 0.2,
        "timeout_s": 2.0,
        "retries": 3,
        "backoff_s": 0.1,
    }
    args.update(kw)
    return HttpClient(**args)


def test_scoring_weights_duration_year_and_artist():
    c = Candidate(source="musicbrainz", title="x", artist="Demo Band", year=2019, duration_s=200.0)
    assert score_candidate(c, duration_s=201.0, year=2019, artist="Demo Band") == 1.0
    assert score_candidate(c, duration_s=206.0, year=2020, artist=None) == pytest.approx(0.3 + 0.2)
    assert score_candidate(c, duration_s=260.0, year=2010, artist="Someone Else") < 0.2


def test_musicbrainz_lookup_retries_503_respects_the_rate_limit_fetches_the_isrc_and_caches(
    tmp_path,
):
    with ReplayServer() as server:
        server.route(MB_SEARCH, (503, {"error": "busy"}), (200, fixture("musicbrainz_search.json")))
        server.route(MB_RECORDING, (200, fixture("musicbrainz_recording_isrcs.json")))
        http = _client(tmp_path)
        result = lookup(
            tags={"track_metadata_year": 2019},
            file_stem="04 - Demo Band - Night Market",
            duration_s=28.7,
            services=[MusicBrainz(http, server.url)],
        )
        v = result.values
        assert v["metadata_lookup_source"] == "musicbrainz"
        assert v["musicbrainz_id"] == "0a1b2c3d-1111-4a4a-9b9b-000000000001"
        assert v["release_year"] == 2019 and v["isrc"] == "GBAAA1900001"
        assert v["metadata_lookup_score"] == pytest.approx(1.0)
        assert 0 < v["metadata_lookup_runner_up_score"] < 0.5
        searches = server.hits(MB_SEARCH)
        assert len(searches) == 2  # the 503, then the answer
        assert "recording%3A%22Night+Market%22+AND+artist%3A%22Demo+Band%22" in searches[0]["path"]
        times = [r["time"] for r in server.requests]
        assert min(np.diff(times)) >= 0.19  # never faster than min_interval_s
        assert server.requests[0]["headers"]["User-Agent"] == "mir-platform-tests/1.0"
        before = len(server.requests)
        again = lookup(tags={"track_metadata_year": 2019}, file_stem="04 - Demo Band - Night Market", duration_s=28.7,
                       services=[MusicBrainz(_client(tmp_path), server.url)])  # fmt: skip
        assert len(server.requests) == before  # answered from the cache
        assert again.values == v


def test_429_with_retry_after_and_a_timeout_are_retried(tmp_path):
    with ReplayServer() as server:
        server.route(
            MB_SEARCH,
            (429, {}, 0.0, {"Retry-After": "1"}),
            (200, fixture("musicbrainz_search.json"), 3.0),
            (200, fixture("musicbrainz_search.json")),
        )
        http = _client(tmp_path, timeout_s=1.0, cache_dir=None)
        t0 = time.monotonic()
        found = MusicBrainz(http, server.url).search("Night Market", "Demo Band")
        assert found and found[0].title == "Night Market"
        assert (
            len(server.hits(MB_SEARCH)) == 3 and time.monotonic() - t0 >= 2.0
        )  # 1 s Retry-After + 1 s timeout


def test_a_service_that_keeps_failing_is_a_clear_error(tmp_path):
    with ReplayServer() as server:
        server.route(MB_SEARCH, (503, {}))
        with pytest.raises(LookupError_, match=r"/ws/2/recording: HTTP 503"):
            MusicBrainz(_client(tmp_path, retries=1, cache_dir=None), server.url).search("x", None)


def test_spotify_client_credentials_search_label_and_genres(tmp_path):
    with ReplayServer() as server:
        server.route("/api/token", (200, fixture("spotify_token.json")))
        server.route("/v1/search", (200, fixture("spotify_search.json")))
        server.route("/v1/albums/album01", (200, fixture("spotify_album.json")))
        server.route("/v1/artists/artist01", (200, fixture("spotify_artist.json")))
        messages = []
        http = _client(tmp_path, log=messages.append)
        spotify = Spotify(
            http, "client-id-123", "very-secret-456", api_url=server.url, accounts_url=server.url
        )
        result = lookup(tags={"track_metadata_artist": "Demo Band", "track_metadata_title": "Night Market"}, file_stem="x",
                        duration_s=28.7, services=[spotify])  # fmt: skip
        v = result.values
        assert (
            v["metadata_lookup_source"] == "spotify" and v["spotify_id"] == "4sPmO7WMQUAf45kwMOtONw"
        )
        assert v["label"] == "Demo Records" and v["genres"] == ["synthwave", "electronica"]
        assert v["artists"] == ["Demo Band", "Guest"] and v["release_year"] == 2019
        (token_request,) = server.hits("/api/token")
        assert token_request["headers"]["Authorization"].startswith("Basic ")
        assert (
            server.hits("/v1/search")[0]["headers"]["Authorization"]
            == "Bearer BQD-test-access-token"
        )
        assert "very-secret" not in repr(spotify) + str(v) + " ".join(messages)
        cached = " ".join(p.read_text() for p in (tmp_path / "cache").glob("*.json"))
        assert "very-secret" not in cached and "BQD-test" not in cached


def test_below_the_minimum_score_no_candidate_is_taken(tmp_path):
    with ReplayServer() as server:
        server.route(MB_SEARCH, (200, fixture("musicbrainz_search.json")))
        result = lookup(
            tags={},
            file_stem="Night Market",
            duration_s=600.0,
            services=[MusicBrainz(_client(tmp_path), server.url)],
        )
        assert result.values["metadata_lookup_source"] == "none"
        assert "musicbrainz_id" not in result.values


def test_embedded_tags_are_read(tmp_path):
    import mutagen.flac
    import soundfile as sf

    path = tmp_path / "t.flac"
    sf.write(str(path), np.zeros((44100, 2), np.float32), 44100)
    tags = mutagen.flac.FLAC(str(path))
    tags["artist"], tags["title"], tags["date"], tags["genre"] = (
        "Demo Band",
        "Night Market",
        "2019-05-01",
        "Synthwave",
    )
    tags.save()
    assert embedded_tags(path) == {
        "track_metadata_artist": "Demo Band",
        "track_metadata_title": "Night Market",
        "track_metadata_genre": "Synthwave",
        "track_metadata_year": 2019,
    }


def test_track_metadata_asset_looks_up_through_dagster_without_leaking_credentials(
    project, instance, monkeypatch, tmp_path
):
    import mutagen.flac

    from mir.info import info_path, read_info
    from mir.synth import render_song
    from tests.conftest import write_config
    from tests.helpers import register, run_track

    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "client-id-123")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "very-secret-456")
    with ReplayServer() as server:
        server.route(MB_SEARCH, (200, fixture("musicbrainz_search.json")))
        server.route(MB_RECORDING, (200, fixture("musicbrainz_recording_isrcs.json")))
        server.route("/api/token", (200, fixture("spotify_token.json")))
        server.route("/v1/search", (200, {"tracks": {"items": []}}))
        write_config(project.root, metadata={
            "lookup": True, "musicbrainz_url": server.url, "spotify_api_url": server.url,
            "spotify_accounts_url": server.url, "min_interval_s": 0.05, "backoff_s": 0.05,
        })  # fmt: skip
        song = render_song(bpm=140, bars=16, tonic="E", scale="minor")
        path = project.add_audio("Night Market.flac", song.mix[: int(28.75 * 44100)])
        tags = mutagen.flac.FLAC(str(path))
        tags["artist"], tags["title"], tags["date"] = "Demo Band", "Night Market", "2019"
        tags.save()
        (track_id,) = register(project, [path], instance)
        result = run_track(
            project, instance, track_id, selection=["source_audio", "track_metadata"]
        )
        assert result.success
        info = read_info(info_path(project.library / track_id))
        assert info["track_metadata_artist"] == "Demo Band"
        assert (
            info["musicbrainz_id"] == "0a1b2c3d-1111-4a4a-9b9b-000000000001"
            and info["isrc"] == "GBAAA1900001"
        )
        logs = " ".join(str(e.message) for e in instance.all_logs(result.run_id))
        assert "very-secret" not in logs and "very-secret" not in str(info)


def test_acoustid_fingerprint_of_a_file_names_the_recording(tmp_path):
    import soundfile as sf

    from mir.metadata.services import acoustid_fingerprint
    from mir.synth import render_song

    path = tmp_path / "unknown.wav"
    sf.write(str(path), render_song(bpm=120, bars=12).mix, 44100)
    answer = {"status": "ok", "results": [{"id": "fp1", "score": 0.94, "recordings": [
        {"id": "0a1b2c3d-1111-4a4a-9b9b-000000000001", "title": "Night Market", "artists": [{"id": "aa00", "name": "Demo Band"}]}
    ]}]}  # fmt: skip
    with ReplayServer() as server:
        server.route("/v2/lookup", (200, answer))
        hit = acoustid_fingerprint(
            path, api_key="acoustid-key-789", http=_client(tmp_path), base_url=server.url
        )
        assert hit == ("Night Market", "Demo Band")
        (request,) = server.hits("/v2/lookup")
        assert (
            request["method"] == "POST"
            and b"fingerprint=" in request["body"]
            and b"duration=" in request["body"]
        )
