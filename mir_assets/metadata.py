"""track_metadata: embedded tags, and release metadata looked up online when enabled."""

import os

from dagster import AssetExecutionContext

from mir.metadata.http import HttpClient
from mir.metadata.search import lookup
from mir.metadata.services import MusicBrainz, Spotify, acoustid_fingerprint
from mir.metadata.tags import embedded_tags
from mir.tracks import track_name
from mir_assets.runtime import for_each_track, full_mix_path
from resources.settings import PipelineSettings


def track_metadata(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """`track_metadata_{artist,title,album,genre,year}` from the file's tags; with
    `metadata.lookup`, the best-scoring MusicBrainz/Spotify recording (duration 0.5, year 0.3,
    artist 0.2, at least `metadata.min_score`): `release_year`, `release_date`, `artists`,
    `album`, `musicbrainz_id`/`spotify_id`, `isrc`, `label`, `genres`, with the winner's and
    the runner-up's scores. Answers are cached under `<library>/.cache/metadata`."""
    cfg = settings.config.metadata
    services: list = []
    http = None
    if cfg.lookup:
        cache = settings.library / ".cache" / "metadata"

        def client() -> HttpClient:
            return HttpClient(
                user_agent=cfg.user_agent,
                cache_dir=cache,
                min_interval_s=cfg.min_interval_s,
                timeout_s=cfg.timeout_s,
                retries=cfg.retries,
                backoff_s=cfg.backoff_s,
                log=context.log.warning,
            )

        if (
            cfg.use_spotify
            and os.environ.get("SPOTIFY_CLIENT_ID")
            and os.environ.get("SPOTIFY_CLIENT_SECRET")
        ):
            services.append(
                Spotify(
                    client(),
                    os.environ["SPOTIFY_CLIENT_ID"],
                    os.environ["SPOTIFY_CLIENT_SECRET"],
                    api_url=cfg.spotify_api_url,
                    accounts_url=cfg.spotify_accounts_url,
                )
            )
        if cfg.use_musicbrainz:
            http = client()
            services.append(MusicBrainz(http, cfg.musicbrainz_url))

    def compute(track_id: str) -> dict:
        source = source_audio[track_id]
        path = full_mix_path(settings, track_id, source)
        values = embedded_tags(path)
        if not services:
            return values
        original = source.get("source_path") or str(path)
        fingerprint = None
        if cfg.use_fingerprinting and os.environ.get("ACOUSTID_API_KEY"):

            def fingerprint():
                return acoustid_fingerprint(
                    path,
                    api_key=os.environ["ACOUSTID_API_KEY"],
                    http=http or services[0].http,
                    base_url=cfg.acoustid_url,
                )

        result = lookup(
            tags=values,
            file_stem=track_name(original),
            duration_s=source.get("duration_s"),
            services=services,
            min_score=cfg.min_score,
            fingerprint=fingerprint,
        )
        context.log.info(
            f"{track_id}: query {result.query!r}, {result.candidates} candidate(s), "
            f"best {result.values['metadata_lookup_score']:.2f} from {result.values['metadata_lookup_source']}"
        )
        return {**values, **result.values}

    return for_each_track(context, settings, compute)
