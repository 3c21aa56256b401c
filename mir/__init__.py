"""mir: the pure music-information-retrieval library of the platform.

Audio in, numbers and files out. Nothing in this package imports Dagster.
"""

from mir.errors import AudioError, ConfigError, MirError, ModelNotFound

__all__ = ["AudioError", "ConfigError", "MirError", "ModelNotFound"]
