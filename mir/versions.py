"""Code versions that move with the code: a fingerprint of what each family runs.

A family's results come from its code: its computation (or the functions its declaration
names in `code`), every function and class of `mir` those call, the module-level
constants they read, and the releases of the libraries they use. :func:`fingerprint`
hashes all of it, formatting, comments and docstrings not counted (the syntax tree
without them), following names through the modules they come from.

`mir/families.lock` records, per family, its version and the fingerprint of its code at
that version. `tests/test_versions.py` fails, naming the family, when the fingerprint
changed and the version did not. Then either the family's results change, and its
`version` moves (Dagster marks it and its consumers stale, `mir run` recomputes them), or
they do not (a refactor, a faster path with the same output), and the lock is rewritten
as it stands:

    python -m mir.versions --lock      # after bumping versions, or for a refactor
    python -m mir.versions             # which families' code changed since the lock
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.metadata
import inspect
import json
import sys
import textwrap
import types
from collections.abc import Iterable
from pathlib import Path

from mir.family import Family, resolve

LOCK = Path(__file__).with_name("families.lock")

#: what every family runs on: the decoded audio and its cached views
COMMON = ("mir.audio:Audio", "mir.audio:load_audio")


def _strip(tree: ast.AST) -> ast.AST:
    """The tree without docstrings and annotations (they do not change results)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
            for arg in (*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs):
                arg.annotation = None
            for arg in (node.args.vararg, node.args.kwarg):
                if arg is not None:
                    arg.annotation = None
        if isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    return tree


def _unwrap(obj):
    obj = getattr(obj, "py_func", obj)  # numba's dispatchers
    return inspect.unwrap(obj) if callable(obj) else obj


def _ours(obj) -> bool:
    module = getattr(obj, "__module__", None) or getattr(obj, "__name__", "")
    return isinstance(module, str) and (module == "mir" or module.startswith("mir."))


def _constant(value) -> str | None:
    """A stable text of an immutable value, or None."""
    if isinstance(value, bool | int | float | str | bytes | type(None)):
        return repr(value)
    if isinstance(value, tuple | list | frozenset | set):
        parts = [_constant(v) for v in value]
        if any(p is None for p in parts):
            return None
        return (
            type(value).__name__
            + "("
            + ",".join(sorted(parts) if isinstance(value, set | frozenset) else parts)
            + ")"
        )
    if isinstance(value, dict):
        parts = [(_constant(k), _constant(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in parts):
            return None
        return "dict(" + ",".join(f"{k}:{v}" for k, v in parts) + ")"
    return None


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


@functools.cache
def _distribution(module_name: str) -> str | None:
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names:
        return None
    names = _distributions().get(top) or []
    for name in names:
        try:
            # the release, without a build's local label (+cpu, +rocm6.4): the same code
            return f"{name}=={importlib.metadata.version(name).split('+')[0]}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


class _Walker:
    """Collects the normalised source of everything reachable from some roots."""

    def __init__(self):
        self.sources: dict[str, str] = {}
        self.constants: dict[str, str] = {}
        self.libraries: set[str] = set()

    def add(self, obj) -> None:
        obj = _unwrap(obj)
        if isinstance(obj, types.ModuleType):
            name = obj.__name__
        else:
            name = f"{obj.__module__}:{obj.__qualname__}"
        if name in self.sources:
            return
        try:
            source = inspect.getsource(obj)
        except (OSError, TypeError):
            self.sources[name] = "<no source>"
            return
        tree = _strip(ast.parse(textwrap.dedent(source)))
        self.sources[name] = ast.dump(tree, annotate_fields=False, include_attributes=False)
        if isinstance(obj, types.ModuleType):
            namespace = vars(obj)
        else:
            namespace = vars(sys.modules[obj.__module__])
        if isinstance(obj, type):
            for base in obj.__mro__[1:]:
                if _ours(base):
                    self.add(base)
        self._follow(tree, namespace)

    def _follow(self, tree: ast.AST, namespace: dict) -> None:
        local: dict[str, object] = {}
        for node in ast.walk(tree):  # imports inside functions bind names too
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    local[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    local[alias.asname or alias.name.split(".")[0]] = (alias.name, None)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                chain = []
                current: ast.AST = node
                while isinstance(current, ast.Attribute):
                    chain.append(current.attr)
                    current = current.value
                if isinstance(current, ast.Name):
                    base = self._lookup(current.id, namespace, local)
                    for attr in reversed(chain):
                        if not isinstance(base, types.ModuleType):
                            break
                        base = getattr(base, attr, None)
                        self._note(f"{current.id}.{attr}", base)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                self._note(node.id, self._lookup(node.id, namespace, local), namespace)

    def _lookup(self, name: str, namespace: dict, local: dict):
        if name in local:
            module, attr = local[name]
            try:
                imported = importlib.import_module(module)
            except ImportError:
                return None
            if attr is None:
                return sys.modules.get(module.split(".")[0]) if "." in module else imported
            value = getattr(imported, attr, None)
            if value is None:
                try:
                    value = importlib.import_module(f"{module}.{attr}")
                except ImportError:
                    return None
            return value
        return namespace.get(name)

    def _note(self, name: str, value, namespace: dict | None = None) -> None:
        if namespace is not None:
            module = namespace.get("__name__", "?")
            source_file = getattr(sys.modules.get(module), "__file__", None)
            if name in _assignments(module, source_file):
                # a name the module assigns: what the statement says, whatever a run has
                # put there since (a cache, a model loaded on first use)
                self._constant_of(name, value, namespace)
                return
        if value is None:
            return
        if isinstance(value, types.ModuleType):
            if not _ours(value):
                lib = _distribution(value.__name__)
                if lib:
                    self.libraries.add(lib)
            return
        if callable(value) or isinstance(value, type):
            target = _unwrap(value)
            if _ours(target) and (inspect.isfunction(target) or inspect.isclass(target)):
                self.add(target)
            elif not _ours(target):
                module = getattr(target, "__module__", None)
                lib = _distribution(module) if isinstance(module, str) else None
                if lib:
                    self.libraries.add(lib)
            return
        if namespace is not None:
            self._constant_of(name, value, namespace)

    def _constant_of(self, name: str, value, namespace: dict) -> None:
        """A module-level name holding data: the statement that assigns it (what the code
        says, not what a run may have put into a mutable value since), followed like code;
        a value set otherwise is taken when it is immutable."""
        module = namespace.get("__name__", "?")
        key = f"{module}:{name}"
        if key in self.constants:
            return
        source_file = getattr(sys.modules.get(module), "__file__", None)
        node = _assignments(module, source_file).get(name)
        if node is not None:
            self.constants[key] = ast.dump(node, annotate_fields=False, include_attributes=False)
            self._follow(node, namespace)
            return
        text = _constant(value)
        if text is not None:
            self.constants[key] = text


@functools.cache
def _assignments(module_name: str, source_file: str | None) -> dict[str, ast.AST]:
    """The top-level statements of a module (as loaded from `source_file`) that assign
    each name."""
    module = sys.modules.get(module_name)
    try:
        tree = ast.parse(inspect.getsource(module)) if module is not None else None
    except (OSError, TypeError):
        return {}
    out: dict[str, ast.AST] = {}
    for node in tree.body if tree is not None else ():
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    out[leaf.id] = _strip(node)
    return out


def code_roots(family: Family) -> list:
    """The objects a family's fingerprint starts from."""
    roots = [*COMMON, *family.code]
    if family.compute is not None:
        roots.append(family.compute)
    return [resolve(root) for root in roots]


def fingerprint(family: Family) -> str:
    """The fingerprint of the code a family runs (see the module's docstring).

    Parameters
    ----------
    family : Family
        The declaration: its `compute` and `code` are the roots of the walk.

    Returns
    -------
    str
        16 hexadecimal digits (the start of a SHA-256): equal exactly when the syntax
        trees, the constants they read and the library releases are.
    """
    walker = _Walker()
    for root in code_roots(family):
        walker.add(root)
    payload = json.dumps(
        {
            "sources": walker.sources,
            "constants": walker.constants,
            "libraries": sorted(walker.libraries),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def read_lock(path: Path = LOCK) -> dict[str, dict[str, str]]:
    return json.loads(path.read_text()) if path.exists() else {}


def write_lock(families: Iterable[Family], path: Path = LOCK) -> dict[str, dict[str, str]]:
    """Record each family's version and the fingerprint of its code as it stands."""
    lock = {f.name: {"version": f.version, "fingerprint": fingerprint(f)} for f in families}
    path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    return lock


def changed(families: Iterable[Family], path: Path = LOCK) -> list[str]:
    """One line per family whose version and code disagree with the lock: code changed
    with the version unchanged, a version moved without the lock, or no entry."""
    lock = read_lock(path)
    problems = []
    for family in families:
        entry = lock.get(family.name)
        now = fingerprint(family)
        if entry is None:
            problems.append(
                f"{family.name}: not in {path.name} (run `python -m mir.versions --lock`)"
            )
        elif entry["fingerprint"] != now and entry["version"] == family.version:
            problems.append(
                f"{family.name}: its code changed (fingerprint {entry['fingerprint']} -> {now}) "
                f"but its version is still {family.version!r}: if its results change, move "
                "`version` in its declaration; if they do not, record the refactor with "
                "`python -m mir.versions --lock`"
            )
        elif entry["version"] != family.version:
            problems.append(
                f"{family.name}: version {entry['version']!r} -> {family.version!r} is not in "
                f"{path.name}: run `python -m mir.versions --lock`"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    import argparse

    from mir.families import FAMILIES

    parser = argparse.ArgumentParser(prog="python -m mir.versions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--lock", action="store_true", help=f"rewrite {LOCK.name}")
    args = parser.parse_args(argv)
    if args.lock:
        lock = write_lock(FAMILIES)
        print(f"wrote {LOCK}: {len(lock)} families")
        return 0
    problems = changed(FAMILIES)
    for line in problems:
        print(line)
    if not problems:
        print(f"every family's code is as {LOCK.name} records it")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
