"""numba's on-disk cache filled by several processes at once (mir/numba_cache.py)."""

import multiprocessing

from mir.numba_cache import make_process_safe

WRITERS = 6
KEYS = 25


def _fill(cache_dir: str, writer: int, barrier) -> None:
    # this module imports mir, as every worker does: the lock is in place
    from numba.core.caching import IndexDataCacheFile

    cache = IndexDataCacheFile(cache_dir, "librosa_like_function", "stamp")
    barrier.wait()  # every writer starts at once, as two fresh workers do
    for k in range(KEYS):
        cache.save(("signature", writer, k), f"machine code of writer {writer}, key {k}")


def _race(tmp_path) -> dict:
    from numba.core.caching import IndexDataCacheFile

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    procs = [
        context.Process(target=_fill, args=(str(tmp_path), w, barrier)) for w in range(WRITERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = IndexDataCacheFile(str(tmp_path), "librosa_like_function", "stamp")
    return {(w, k): cache.load(("signature", w, k)) for w in range(WRITERS) for k in range(KEYS)}


def test_processes_filling_the_cache_at_once_each_find_their_own_code(tmp_path):
    assert make_process_safe()
    loaded = _race(tmp_path)
    # every entry of every writer is there, and names its own data: none lost to a
    # concurrent index write, none pointing at another signature's machine code (without
    # the lock, 109 to 122 of the 150 entries are lost or wrong on the 2-core machine)
    assert loaded == {(w, k): f"machine code of writer {w}, key {k}" for w, k in loaded}


def _names(compile_first: bool, queue) -> None:
    from numba.core.bytecode import FunctionIdentity

    def other(x):
        return x

    def kernel(x, out):
        out[:] = x

    if compile_first:  # a process that compiled something else before
        FunctionIdentity.from_function(other)
    queue.put(FunctionIdentity.from_function(kernel).unique_name)


def test_a_function_gets_the_same_name_in_every_process_whatever_it_compiled_before():
    """numba issue #10128: a gufunc's kernel and wrapper are cached apart; a wrapper that
    one process cached calls the kernel by the name that process gave it, so a kernel
    cached by another process under another name crashes every later process. Numbered
    by its own name, a function is named alike everywhere (numba's own counter gives
    `kernel$2` in the first process and `kernel$1` in the second)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    for first in (True, False):
        p = context.Process(target=_names, args=(first, queue))
        p.start()
        p.join(60)
        assert p.exitcode == 0
    names = [queue.get(timeout=10), queue.get(timeout=10)]
    assert names[0] == names[1] and names[0].endswith("kernel$1")
