"""numba's on-disk cache, made safe for processes that fill it at the same time.

librosa compiles its numba functions with `cache=True`: the first process to call one
writes the machine code beside the package (an index file naming a data file per
signature), and every later process loads it. numba writes the index and the data without
a lock (numba issue #10128): two processes compiling at once (the two workers of a fresh
`mir run`, two runs a backfill starts together) can each pick data file 1 for a different
signature, and the index of one then names the data of the other. Every process that
loads that entry runs the wrong machine code and dies (a segmentation fault in
`librosa.piptrack`, on a fresh set-up, for every track after the first).

:func:`make_process_safe` holds a lock file beside each index (`<index>.lock`,
`fcntl.flock`) while numba saves an entry (exclusive: read the index, choose the data
file, write both) and while it loads one (shared), so an index always names the data
written for its key. Applied when :mod:`mir` is imported; where the cache folder cannot
be written, or without `fcntl`, numba's own behaviour stands.
"""

from __future__ import annotations

import functools
import os

try:
    import fcntl
except ImportError:  # not on POSIX: numba's own behaviour
    fcntl = None


def _locked(method, *, exclusive: bool):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            fd = os.open(self._index_path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only or missing cache folder: nothing to race over
            return method(self, *args, **kwargs)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            return method(self, *args, **kwargs)
        finally:
            os.close(fd)  # releases the lock

    wrapper.mir_locked = True
    return wrapper


def make_process_safe() -> bool:
    """Lock numba's cache index while an entry is saved or loaded (once per process).

    Returns
    -------
    bool
        Whether the cache is locked (False without `fcntl` or numba).
    """
    if fcntl is None:
        return False
    try:
        from numba.core.caching import IndexDataCacheFile
    except ImportError:
        return False
    if not getattr(IndexDataCacheFile.save, "mir_locked", False):
        IndexDataCacheFile.save = _locked(IndexDataCacheFile.save, exclusive=True)
        IndexDataCacheFile.load = _locked(IndexDataCacheFile.load, exclusive=False)
    return True
