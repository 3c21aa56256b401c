"""The documentation's generated references hold every key, every configuration key and
every environment variable the code reads (mir/reference.py)."""

import re
from pathlib import Path

from pydantic import BaseModel

from mir import reference
from mir.config import MasterConfig
from mir.families import FAMILIES

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mir", "mir_cli", "mir_assets", "resources", "sensors", "store")


def _environment_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "_vendor" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            names |= set(re.findall(r"[\"'](MIR_[A-Z_]+)[\"']", text))
            names |= set(re.findall(r"environ(?:\.get\(|\[)[\"']([A-Z_]+)[\"']", text))
    return names


def test_every_environment_variable_the_code_reads_is_documented():
    read = _environment_read_by_the_code()
    assert {"MIR_CONFIG", "MIR_EXECUTOR", "MIR_THREADS", "SPOTIFY_CLIENT_ID"} <= read
    assert read - set(reference.ENVIRONMENT) == set()
    page = reference.config_reference()
    for name in reference.ENVIRONMENT:
        assert f"| `{name}` |" in page


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel) and name != "features":
            out += _leaves(ann, f"{prefix}{name}.")
        elif name != "features":
            out.append(f"{prefix}{name}")
    return out


def test_the_configuration_reference_holds_every_key_with_its_default():
    page = reference.config_reference()
    keys = _leaves(MasterConfig)
    assert len(keys) > 100
    for key in keys:
        assert f"| `{key}` |" in page, key
    assert "| `crops.length_samples` | integer (≥ 4096) | `524288` |" in page
    assert "| `paths.inbox` | path | `data/inbox` |" in page
    assert "`$MIR_INBOX` overrides it" in page
    for family in FAMILIES:
        assert f"| `features.{family.name}` | `true` |" in page
    # every key has a meaning (a comment in config/master_pipeline.yaml or config.py)
    unexplained = [row.split("|")[1] for row in page.splitlines() if row.endswith("|  |")]
    assert unexplained == []


def test_yaml_comments_describe_the_keys_below_them(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(
        "# the section\nbeats:\n  # the tracker\n  # in two lines\n  tracker: madmom\n\n"
        "  fps: 100   # frames per second\n  min_bpm: 55\n"
    )
    assert reference.yaml_comments(config) == {
        "beats": "the section",
        "beats.tracker": "the tracker in two lines",
        "beats.fps": "frames per second",
    }
    named = tmp_path / "n.yaml"
    named.write_text("s:\n  # a below lo and b\n  a: 1\n  b: 2\n  c: 3\n")
    assert reference.yaml_comments(named) == {"s.a": "a below lo and b", "s.b": "a below lo and b"}


def test_the_feature_reference_holds_every_key_unit_range_and_model_licence():
    page = reference.feature_reference()
    for family in FAMILIES:
        assert f"\n## {family.name}\n" in page
        for feature in family.keys:
            assert f"| `{feature.key}` |" in page, feature.key
    assert "| `lufs` | number | LUFS |" in page
    assert "| `zero_crossing_rate` | number |  | 0 … 1 |" in page
    section = page.split("\n## classification\n")[1].split("\n## ")[0]
    assert "CC BY-NC-ND 4.0" in section  # the Essentia models' licence, from the manifest
    latents = page.split("\n## latents\n")[1].split("\n## ")[0]
    assert "Stability AI Community License" in latents


def test_the_readers_named_in_the_reference_are_the_code_locations():
    from mir_assets.definitions import CONSUMER_ASSETS

    assert reference.READERS == CONSUMER_ASSETS


def test_the_versions_table_is_the_lock():
    table = reference.versions_table()
    for family in FAMILIES:
        assert f"| `{family.name}` | {family.group} | {family.version} | `" in table


# -- the Python API page: every object it renders is documented ------------------------

API_PAGE = ROOT / "docs" / "reference" / "api.md"
#: what a numeric parameter's description must hold: a number or a range sign (a unit
#: alone does not say what values are valid)
RANGE = re.compile(r"\d|[<>≤≥…]|\.\.|\binf\b")


def _api_blocks() -> list[tuple[str, list[str] | None]]:
    """`(module, members or None)` of each `::: module` block of the API page."""
    text = API_PAGE.read_text(encoding="utf-8")
    out = []
    for module, options in re.findall(r"^::: ([\w.]+)\n((?:    .*\n)*)", text, re.M):
        members = re.search(r"members: \[(.*)\]", options)
        out.append((module, [m.strip() for m in members[1].split(",")] if members else None))
    return out


def _numeric(annotation) -> bool:
    return annotation is not None and re.search(r"\b(float|int)\b", str(annotation)) is not None


def _problems(obj, path: str) -> list[str]:
    """What the API page would show undocumented of `obj` (and its public members)."""
    import griffe

    if obj.is_alias:
        obj = obj.final_target
    doc = obj.docstring
    if doc is None or not doc.value.strip():
        return [f"{path}: no docstring"]
    sections = {s.kind: s for s in doc.parse(griffe.Parser.numpy)}
    kinds = griffe.DocstringSectionKind
    out = []
    if obj.is_function:
        params = [p for p in obj.parameters if p.name not in ("self", "cls")]
        documented = {
            name.strip().lstrip("*"): p
            for p in (sections[kinds.parameters].value if kinds.parameters in sections else ())
            for name in p.name.split(",")  # "min, max : float" documents both
        }
        for p in params:
            if p.name not in documented:
                out.append(f"{path}: parameter {p.name} not in its Parameters section")
            elif _numeric(p.annotation) and not RANGE.search(documented[p.name].description):
                out.append(f"{path}: numeric parameter {p.name} has no range")
        returns = obj.returns
        if returns is not None and str(returns) != "None" and "property" not in obj.labels:
            if kinds.returns not in sections:
                out.append(f"{path}: returns {returns} but has no Returns section")
            elif _numeric(returns) and not any(
                RANGE.search(r.description) for r in sections[kinds.returns].value
            ):
                out.append(f"{path}: numeric return value has no range")
    if obj.is_class:
        init = obj.members.get("__init__")
        if init is not None and init.is_function:
            named = {
                name.strip()
                for kind in (kinds.parameters, kinds.attributes)
                for e in (sections[kind].value if kind in sections else ())
                for name in e.name.split(",")
            }
            for p in init.parameters:
                if p.name not in ("self", "cls") and not p.name.startswith("_"):
                    if p.name not in named:
                        out.append(f"{path}: {p.name} in neither Parameters nor Attributes")
        for name, member in obj.members.items():
            if name.startswith("_") or member.is_alias:
                continue
            if member.is_function or member.is_class or "property" in member.labels:
                out += _problems(member, f"{path}.{name}")
    return out


def test_every_object_the_api_page_renders_has_a_numpy_docstring():
    import griffe

    loader = griffe.GriffeLoader(search_paths=[str(ROOT)])
    problems, seen = [], 0
    for module_name, members in _api_blocks():
        module = loader.load(module_name)
        if module.docstring is None:
            problems.append(f"{module_name}: no module docstring")
        if members is None:  # the whole module: what mkdocstrings shows, its own objects
            members = [n for n, m in module.members.items() if m.is_public and not m.is_alias]
        for name in members:
            assert name in module.members, f"api.md names {module_name}.{name}: no such object"
            member = module.members[name]
            seen += 1
            if member.is_attribute:
                if member.docstring is None:
                    problems.append(f"{module_name}.{name}: no docstring")
                continue
            problems += _problems(member, f"{module_name}.{name}")
    assert seen > 40  # the page renders the modules it names
    assert not problems, "\n".join(problems)
