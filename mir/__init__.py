"""mir: the pure music-information-retrieval library of the platform.

Audio in, numbers and files out. Nothing in this package imports Dagster.
"""

from mir.errors import AudioError, ConfigError, MirError, ModelNotFound
from mir.numba_cache import make_process_safe

# before any librosa function is compiled or loaded from numba's cache in this process
make_process_safe()

__all__ = ["AudioError", "ConfigError", "MirError", "ModelNotFound"]
