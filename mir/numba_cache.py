"""numba's on-disk cache, made safe for processes that fill it at the same time.

librosa compiles its numba functions with `cache=True`: the first process to call one
writes the machine code beside the package, and every later process loads it. Two
processes that compile at once (the two workers of a fresh `mir run`, two runs a backfill
starts together) can leave a cache that crashes every later process (a segmentation fault
in `librosa.piptrack`, on a fresh set-up, for every track after the first), in two ways:

- numba names each compiled function with a number from a counter of the whole process
  (`FunctionIdentity`), so the same function gets another name in a process that compiled
  other functions first. A gufunc (piptrack's parabolic interpolation) is cached as two
  entries, the kernel and its wrapper; written by two processes, the wrapper calls the
  kernel by a name the kernel's entry does not hold (numba issue #10128, fixed the same
  way in numba pull request #10545, not released). :func:`make_process_safe` numbers each
  function by its own name instead, so every process names it alike.
- numba writes an index (which data file holds which signature) and the data without a
  lock: two processes can each pick data file 1 for another signature, and the index of
  one then names the data of the other. A lock file beside each index (`<index>.lock`,
  `fcntl.flock`) is held while numba saves an entry (exclusive: read the index, choose the
  data file, write both) and while it loads one (shared).

Applied when :mod:`mir` is imported; where the cache folder cannot be written, or without
`fcntl`, numba's own locking behaviour stands.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import defaultdict

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


def _number_by_name(from_function):
    """`FunctionIdentity.from_function` numbering each function by its qualified name: the
    n-th compilation of a function is `<qualname>$n` in every process, whatever else the
    process compiled before (numba's own counter runs over every function)."""
    counts: defaultdict[str, int] = defaultdict(int)
    lock = threading.Lock()

    @functools.wraps(from_function)
    def numbered(cls, pyfunc):
        identity = from_function(cls, pyfunc)
        with lock:
            counts[identity.func_qualname] += 1
            uid = counts[identity.func_qualname]
        identity.unique_name = f"{identity.func_qualname}${uid}"
        identity.unique_id = uid
        return identity

    numbered.mir_numbered = True
    return classmethod(numbered)


def make_process_safe() -> bool:
    """Number numba's functions by name and lock its cache index while an entry is saved
    or loaded (once per process).

    Returns
    -------
    bool
        Whether the cache is locked (False without `fcntl` or numba).
    """
    try:
        from numba.core.bytecode import FunctionIdentity
        from numba.core.caching import IndexDataCacheFile
    except ImportError:
        return False
    if not getattr(FunctionIdentity.from_function, "mir_numbered", False):
        FunctionIdentity.from_function = _number_by_name(FunctionIdentity.from_function.__func__)
    if fcntl is None:
        return False
    if not getattr(IndexDataCacheFile.save, "mir_locked", False):
        IndexDataCacheFile.save = _locked(IndexDataCacheFile.save, exclusive=True)
        IndexDataCacheFile.load = _locked(IndexDataCacheFile.load, exclusive=False)
    return True
