"""Keep what libraries print for their own developers out of our users' terminals.

madmom warns about its own deprecated defaults on every tempo estimate, numpy and
librosa pass on deprecations of their dependencies, and Essentia logs an INFO line
("MusicExtractorSVM: no classifier models were configured") when its Python module is
imported. None of it is actionable by a user of this project. Warnings of other kinds
(and our own) are still shown, once per place, as Python does by default.
"""

from __future__ import annotations

import warnings


def quiet_libraries(*, essentia: bool = True) -> None:
    """Silence third-party deprecation notices and (with `essentia`, which imports it)
    Essentia's import-time log lines.

    Call it once per process before the libraries are used (the command line does, and
    so does every `mir run` worker and the code location)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="librosa")
    warnings.filterwarnings("ignore", message=".*is deprecated.*", module="madmom")
    warnings.filterwarnings("ignore", message=".*deprecated.*", category=UserWarning)
    # rotary-embedding-torch (the BS-RoFormer's) on torch's renamed autocast, at import
    warnings.filterwarnings("ignore", message=".*deprecated.*", category=FutureWarning)
    if not essentia:
        return
    import essentia as es

    es.log.infoActive = False
    es.log.warningActive = False
