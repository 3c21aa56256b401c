"""Code versions move with the code: each family's code is held to its version by a
fingerprint in mir/families.lock."""

import importlib
import itertools
import sys
import textwrap

import pytest

from mir.families import FAMILIES
from mir.family import Family, Feature
from mir.versions import changed, fingerprint, write_lock


def test_every_family_code_is_as_the_lock_records_it_at_its_version():
    problems = changed(FAMILIES)
    assert not problems, "\n".join(problems)


MODULE = """
import numpy as np

SCALE = 2.0


def helper(y):
    return float(np.mean(y)) * SCALE


def compute(track):
    return {"level": helper(track.audio.samples)}
"""


_NUMBERS = itertools.count()


@pytest.fixture
def family_module(tmp_path, monkeypatch):
    """A family whose code lives in a module the test rewrites: `write(source)` returns
    the family as that source declares it."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(source: str, version: str = "1") -> Family:
        name = f"mir_test_family_{next(_NUMBERS)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        module = importlib.import_module(name)
        # the fingerprint walks code of `mir`: this module is taken as one of its own
        module.__name__ = module.helper.__module__ = module.compute.__module__ = "mir.test_family"
        sys.modules["mir.test_family"] = module
        return Family(
            name="level",
            group="test",
            version=version,
            keys=(Feature("level", 0, 1),),
            compute=module.compute,
        )

    yield write
    sys.modules.pop("mir.test_family", None)


def test_comments_docstrings_and_formatting_leave_the_fingerprint(family_module):
    before = fingerprint(family_module(MODULE))
    reformatted = MODULE.replace(
        "def helper(y):\n",
        'def helper(y):  # the mean, scaled\n    """The scaled mean."""\n\n',
    ).replace("float(np.mean(y)) * SCALE", "float(np.mean( y )) *  SCALE")
    assert fingerprint(family_module(reformatted)) == before


def test_a_called_function_or_a_constant_that_changes_moves_the_fingerprint(family_module):
    before = fingerprint(family_module(MODULE))
    assert fingerprint(family_module(MODULE.replace("SCALE = 2.0", "SCALE = 3.0"))) != before
    assert fingerprint(family_module(MODULE.replace("np.mean(y)", "np.median(y)"))) != before


def test_the_check_names_the_family_whose_code_changed_without_its_version(family_module, tmp_path):
    lock = tmp_path / "families.lock"
    write_lock([family_module(MODULE)], lock)
    assert changed([family_module(MODULE)], lock) == []
    edited = family_module(MODULE.replace("SCALE = 2.0", "SCALE = 3.0"))
    (problem,) = changed([edited], lock)
    assert problem.startswith("level: its code changed") and "version is still '1'" in problem
    bumped = family_module(MODULE.replace("SCALE = 2.0", "SCALE = 3.0"), version="2")
    (problem,) = changed([bumped], lock)
    assert "version '1' -> '2' is not in families.lock" in problem
    write_lock([bumped], lock)
    assert changed([bumped], lock) == []
