"""The project's error types: one for bad input, one for missing models."""

from __future__ import annotations

from pathlib import Path


class MirError(Exception):
    """Base class of every error this project raises on purpose."""


class AudioError(MirError):
    """An audio file that cannot be used: unreadable, empty, truncated or not audio.

    The message names the file and the reason.

    Parameters
    ----------
    path : str or Path
        The file (kept as the `path` attribute, a str).
    reason : str
        What is wrong with it (kept as `reason`).
    """

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class MissingInput(MirError):
    """An input a feature needs (an upstream asset's values or the file it writes) is not
    there: the feature is not computed, rather than computed from nothing.

    Parameters
    ----------
    what : str or Path
        The missing input: a file, or the values of an asset (kept as `what`, a str).
    written_by : str
        The asset that writes it: the message says to materialize it first.
    """

    def __init__(self, what: str | Path, written_by: str):
        self.what = str(what)
        self.written_by = written_by
        super().__init__(
            f"missing input: {self.what} (written by the `{written_by}` asset; "
            f"materialize `{written_by}` for this track first)"
        )


class ModelNotFound(MirError):
    """A model file that a feature needs is not where the configuration says.

    Parameters
    ----------
    expected : str or Path
        The file expected (kept as `expected`, a str).
    config_key : str
        The configuration key that sets its path (`classification.models_dir`, ...).
    hint : str
        A sentence added to the message (how to get the file); none by default.
    """

    def __init__(self, expected: str | Path, config_key: str, hint: str = ""):
        self.expected = str(expected)
        self.config_key = config_key
        msg = (
            f"model file not found: {self.expected} (set by config key `{config_key}`; "
            "models/README.md lists every model, its source and checksum)"
        )
        if hint:
            msg += f". {hint}"
        super().__init__(msg)


class ConfigError(MirError):
    """A configuration file with an unknown key, a wrong type or a bad value."""
