"""Release metadata: embedded tags, and a scored lookup in MusicBrainz and Spotify.

:mod:`mir.metadata.tags` reads what a track says about itself (its tags, its file name);
:mod:`mir.metadata.http` speaks JSON over HTTP (a minimum interval, retries with backoff,
a file cache); :mod:`mir.metadata.services` asks MusicBrainz, Spotify and AcoustID;
:mod:`mir.metadata.scoring` scores their candidates; :mod:`mir.metadata.search` chooses
the query and keeps the best. Credentials never enter the cache keys, the logs or the
returned values.
"""
