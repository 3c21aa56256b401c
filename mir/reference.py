"""The documentation's generated references, as Markdown: features and configuration.

The feature reference is rendered from the family declarations (:mod:`mir.families`, and
the feature modules a configuration names) and the model manifest (the licence of each
model a family can load); the configuration reference from the configuration model
(:class:`mir.config.MasterConfig`), the comments of `config/master_pipeline.yaml` and the
environment variables the code reads (:data:`ENVIRONMENT`). The documentation site calls
these at build time (docs/hooks.py), so the pages cannot drift from the code.

    python -m mir.reference features        # the feature reference on stdout
    python -m mir.reference configuration   # the configuration reference
"""

from __future__ import annotations

import inspect
import math
import re
import sys
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel

from mir.config import (
    DEFAULT_CONFIG,
    PATH_OVERRIDES,
    PROJECT_ROOT,
    STORE_OVERRIDES,
    MasterConfig,
)
from mir.family import CONSUMERS, Family, Feature

ENVIRONMENT: dict[str, str] = {
    "MIR_CONFIG": "The configuration file to load (default: `config/master_pipeline.yaml`); "
    "`--config FILE` of every `mir` command wins over it.",
    **{
        env: f"Overrides `paths.{key}`: where this machine finds it (a shared mount, say)."
        for key, env in PATH_OVERRIDES.items()
    },
    STORE_OVERRIDES["backend"]: "Overrides `feature_store.backend` (`duckdb` or `postgres`).",
    STORE_OVERRIDES["postgres_url"]: "Overrides `feature_store.postgres_url` (a libpq URL).",
    "MIR_MODELS_MANIFEST": "The model manifest `mir models` reads (default: "
    "`models/manifest.yaml`); `--manifest FILE` wins over it.",
    "MIR_EXECUTOR": "The executor of a run's steps: `in_process` (the default: a run's "
    "steps share its models and decoded audio) or `celery` (each step on a Celery worker; "
    "see Scaling out).",
    "MIR_CELERY_CONFIG": "The Celery workers' YAML file that runs and workers share "
    "(default: `config/celery.yaml`).",
    "MIR_THREADS": "Threads of the numeric libraries in one process (the beat tracker's "
    "two decoders, torch); `mir run` sets it for each worker to its share of the cores.",
    "DAGSTER_HOME": "The Dagster instance (its `dagster.yaml`, run and event storage); "
    "default `.dagster_home/` of the project.",
    "SPOTIFY_CLIENT_ID": "With `SPOTIFY_CLIENT_SECRET`: Spotify's API in the release "
    "lookup (`metadata.lookup`); without them Spotify is skipped.",
    "SPOTIFY_CLIENT_SECRET": "See `SPOTIFY_CLIENT_ID`.",
    "ACOUSTID_API_KEY": "AcoustID in the release lookup: a track no search matched is "
    "fingerprinted (`fpcalc`) and looked up there.",
    "PGPASSWORD": "The PostgreSQL password of `feature_store.postgres_url` when the URL "
    "holds none (or `~/.pgpass`).",
}
"""Every environment variable the project reads, with what it does
(tests/test_reference.py holds this table to the variables the code names)."""


#: the assets that read a family's values, by consumer (`Family.consumers`)
READERS = {
    "crops": ("training_crops", "sat_dataset"),
    "statistics": ("feature_statistics",),
    "captions": ("captions",),
}


def _md(text: str) -> str:
    """Text for a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _number(value: float) -> str:
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:g}"


def _range(feature: Feature) -> str:
    if not feature.numeric:
        return ""
    if math.isinf(feature.min) and math.isinf(feature.max):
        return "any"
    return f"{_number(feature.min)} … {_number(feature.max)}"


def _kind(feature: Feature) -> str:
    return {
        "number": "number",
        "text": "text",
        "flag": "true/false",
        "labels": "{label: probability}",
        "list": "list",
        "file": "file",
    }[feature.kind]


def _licences(family: Family, manifest: Sequence | None) -> list[str]:
    """`name (licence)` of every manifest model the family can load."""
    out = []
    for entry in manifest or ():
        if family.name in entry.assets:
            licence = entry.licence or "not stated"
            url = f" <{entry.licence_url}>" if entry.licence_url else ""
            accept = " (you accept it before fetching)" if entry.licence_acceptance_required else ""
            what = f": {entry.description}" if entry.description else ""
            out.append(f"`{entry.name}`{what}. Licence: {licence}{url}{accept}")
    return out


def _needs(family: Family, manifest: Sequence | None) -> list[str]:
    lines = []
    if family.beats:
        lines.append("the beat grid (`beat_grid`)")
    if family.stems:
        stems = ", ".join(f"`{s}`" for s in family.stems)
        how = "all of" if family.stems_required else "when present,"
        lines.append(f"{how} the stems {stems} (`stems`)")
    if family.reads:
        lines.append("the stored values of " + ", ".join(f"`{r}`" for r in family.reads))
    if family.model is not None:
        lines.append(f"a model, selected by `{family.model.config_key}`")
    if family.program is not None:
        program = family.program if isinstance(family.program, str) else family.program.__name__
        lines.append(f"a program (checked by `{program}`)")
    if family.gpu is not False:
        lines.append(
            "the GPU resource" if family.gpu is True else "the GPU resource, when configured"
        )
    return lines


def family_reference(family: Family, manifest: Sequence | None = None) -> str:
    """One family's section of the feature reference.

    Parameters
    ----------
    family : Family
        The declaration.
    manifest : sequence of ModelEntry, optional
        The model manifest (:func:`mir.models.manifest.load_manifest`): the models the
        family can load and their licences.

    Returns
    -------
    str
        Markdown: a level-2 heading (the family's name), what it computes, what it needs,
        who reads it, and a table of its keys (key, kind, unit, range, meaning).
    """
    out = [f"## {family.name}", ""]
    facts = [
        f"**Group** `{family.group}`",
        f"**code version** {family.version}",
        f"**switch** `features.{family.name}`",
    ]
    if not family.partitioned:
        facts.append("library-wide (not per track)")
    out += [" · ".join(facts), ""]
    if family.description:
        out += [" ".join(family.description.split()), ""]
    needs = _needs(family, manifest)
    if needs:
        out += ["**Needs** " + "; ".join(needs) + ".", ""]
    models = _licences(family, manifest)
    if models:
        out += ["**Models**", ""] + [f"- {m}" for m in models] + [""]
    if family.in_analysis:
        out += ["Runs in `mir analyze` too (no model, no Dagster).", ""]
    readers = [r for c in CONSUMERS if c in family.consumers for r in READERS[c]]
    if readers:
        out += ["**Read by** " + ", ".join(f"`{r}`" for r in readers) + ".", ""]
    if family.keys:
        out += [
            "| key | kind | unit | range | meaning | in crops |",
            "|---|---|---|---|---|---|",
        ]
        for f in family.keys:
            meaning = f.description + (" (present only when known)" if f.optional else "")
            crops = "yes" if family.inherited_by_crops(f.key) else "no"
            out.append(
                f"| `{_md(f.key)}` | {_md(_kind(f))} | {_md(f.unit)} | {_md(_range(f))} "
                f"| {_md(meaning)} | {crops} |"
            )
        out += [
            "",
            f"A value the audio does not define is stored as null, its reason under "
            f"`{family.undefined_key}`.",
            "",
        ]
    return "\n".join(out)


def feature_reference(
    families: Iterable[Family] | None = None, manifest: Sequence | None = None
) -> str:
    """The feature reference: every family, every key, as Markdown.

    Parameters
    ----------
    families : iterable of Family, optional
        Default: the built-in families (:data:`mir.families.FAMILIES`), in pipeline order.
    manifest : sequence of ModelEntry, optional
        Default: `models/manifest.yaml`.

    Returns
    -------
    str
        A summary table (family, group, keys, needs) and one section per family
        (:func:`family_reference`).
    """
    if families is None:
        from mir.families import FAMILIES

        families = FAMILIES
    families = list(families)
    if manifest is None:
        from mir.models.manifest import load_manifest

        manifest = load_manifest()
    keys = sum(len(f.keys) for f in families)
    out = [
        f"{len(families)} families, {keys} declared keys. A key ending in `*` stands for "
        "every key with that prefix. *In crops*: whether each training crop's `.INFO` and "
        "the dataset's sidecars carry it.",
        "",
        "| family | group | keys | version | needs a model |",
        "|---|---|---|---|---|",
    ]
    for f in families:
        model = f"`{f.model.config_key}`" if f.model else ""
        out.append(
            f"| [`{f.name}`](#{f.name}) | {f.group} | {len(f.keys)} | {f.version} | {model} |"
        )
    out.append("")
    for family in families:
        out.append(family_reference(family, manifest))
    return "\n".join(out)


# -- configuration ----------------------------------------------------------------------

_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_][\w.-]*):(?:\s|$)(?P<rest>.*)$")


def yaml_comments(path: str | Path = DEFAULT_CONFIG) -> dict[str, str]:
    """`{dotted key: its comment}` of a commented YAML file.

    A key's comment is the comment lines right above it plus the comment after its value.
    A comment above a run of sibling keys (no blank line between them) that names a later
    key of the run describes it too (`quality_rms_dbfs` under the comment of
    `quality_check`).

    Parameters
    ----------
    path : path-like
        The file (default: `config/master_pipeline.yaml`).

    Returns
    -------
    dict
        `{dotted key: comment}` (`"beats.fps"`), the comment's lines joined by spaces;
        keys without a comment are left out.
    """
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    #: the comment of the current run of sibling keys, by indentation
    runs: dict[int, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped:
            pending, runs = [], {}
            continue
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        match = _KEY.match(line)
        if match is None:  # a continued value (a flow list, a block scalar)
            pending = []
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"]))
        runs = {i: text for i, text in runs.items() if i <= indent}
        rest = match["rest"]
        trailing = ""
        if " #" in rest and not rest.lstrip().startswith(("'", '"')):
            trailing = rest.split(" #", 1)[1].strip()
        elif rest.lstrip().startswith("#"):
            trailing = rest.lstrip().lstrip("#").strip()
        if pending:
            runs[indent] = " ".join(pending)
        run = runs.get(indent, "")
        named = re.search(rf"\b{re.escape(match['key'])}\b", run)
        above = " ".join(pending) if pending else (run if named else "")
        text = " ".join(p for p in (above, trailing) if p)
        if text:
            out[".".join(k for _, k in stack)] = text
        pending = []
    return out


def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """`{field: comment}` from the `#:` comments above a configuration class's fields."""
    out: dict[str, str] = {}
    pending: list[str] = []
    try:
        source = inspect.getsource(model)
    except (OSError, TypeError):
        return out
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        match = re.match(r"^\s+(\w+)\s*:", line)
        if match and pending:
            out[match[1]] = " ".join(pending)
        if not stripped.startswith("#"):
            pending = []
    return out


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (tuple,):
        if len(args) == 2 and args[1] is Ellipsis:
            return f"list of {_type_name(args[0])}"
        return f"{len(args)} × {_type_name(args[0])}"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}"
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if annotation is Path:
        return "path"
    return {bool: "true/false", int: "integer", float: "number", str: "text"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _default(value) -> str:
    if isinstance(value, Path):
        return f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple | list):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    if isinstance(value, dict):
        return "`{}`" if not value else "see the file"
    if isinstance(value, str):
        return f'`"{value}"`' if value == "" else f"`{value}`"
    return f"`{value}`"


def _constraints(field) -> str:
    parts = []
    for item in field.metadata:
        for name, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(item, name, None)
            if value is not None:
                parts.append(f"{sign} {value:g}")
    return ", ".join(parts)


def _env_of(key: str) -> str:
    section, _, name = key.partition(".")
    if section == "paths" and name in PATH_OVERRIDES:
        return PATH_OVERRIDES[name]
    if section == "feature_store" and name in STORE_OVERRIDES:
        return STORE_OVERRIDES[name]
    return ""


def _rows(model: type[BaseModel], prefix: str, comments: dict[str, str]) -> list[list]:
    """`[key, field, annotation, description]` of every leaf of a configuration model;
    a nested section's keys follow it."""
    rows: list[list] = []
    own = field_comments(model)
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        key = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(_rows(annotation, key + ".", comments))
            continue
        rows.append([key, field, annotation, comments.get(key) or own.get(name, "")])
    return rows


def config_reference(
    path: str | Path = DEFAULT_CONFIG, families: Iterable[Family] | None = None
) -> str:
    """The configuration reference: every key with its type, default and meaning, and
    every environment variable, as Markdown.

    Parameters
    ----------
    path : path-like
        The commented configuration file whose comments describe the keys (default:
        `config/master_pipeline.yaml`); the keys, types and defaults come from
        :class:`~mir.config.MasterConfig`.
    families : iterable of Family, optional
        The families whose `features:` switches are listed (default: the built-in ones).

    Returns
    -------
    str
        One section per top-level key (`paths`, `beats`, ...) with a table, then the
        `features:` switches, then the environment variables.
    """
    if families is None:
        from mir.families import FAMILIES

        families = FAMILIES
    comments = yaml_comments(path)
    out = [
        "Every key of `config/master_pipeline.yaml`, with its type, its default (the value "
        "when the key is left out) and what it does. An unknown key, or a value of the "
        "wrong type, is an error that names the key. Relative paths are taken from the "
        "project (the folder above `config/`), or, for a file kept elsewhere, from that "
        "file's folder.",
        "",
    ]
    for name, field in MasterConfig.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        section_comment = comments.get(name) or field_comments(MasterConfig).get(name, "")
        out += [f"## {name}", ""]
        section = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if section_comment and section and name != "features":
            out += [section_comment, ""]
        if name == "features":
            out += [
                "One switch per asset: `mir run` materializes the enabled ones (a disabled "
                "asset can still be materialized from the UI). An asset not listed is on; "
                "a name that is no asset is an error. With feature modules, their "
                "families' switches too.",
                "",
                "| key | default | asset |",
                "|---|---|---|",
            ]
            for family in families:
                what = comments.get(f"features.{family.name}", "")
                out.append(f"| `features.{family.name}` | `true` | {_md(what)} |")
            out.append("")
            continue
        if section:
            rows = _rows(annotation, name + ".", comments)
        else:
            rows = [[name, field, annotation, section_comment]]
        out += [
            "| key | type | default | meaning |",
            "|---|---|---|---|",
        ]
        for key, f, annotation, text in rows:
            limits = _constraints(f)
            kind = _type_name(annotation) + (f" ({limits})" if limits else "")
            env = _env_of(key)
            if env:
                text = (
                    text.rstrip() + (" " if text.rstrip().endswith(".") else ". ") if text else ""
                )
                text += f"Environment: `${env}` overrides it."

            out.append(
                f"| `{key}` | {kind} | {_md(_default(f.get_default(call_default_factory=True)))} "
                f"| {_md(text)} |"
            )
        out.append("")
    out += [
        "## Environment variables",
        "",
        "| variable | what it does |",
        "|---|---|",
    ]
    for env, text in ENVIRONMENT.items():
        out.append(f"| `{env}` | {_md(text)} |")
    out.append("")
    return "\n".join(out)


def versions_table(families: Iterable[Family] | None = None) -> str:
    """The code version of every family, with the fingerprint `mir/families.lock` holds
    for it (Markdown)."""
    import json

    from mir.versions import LOCK

    if families is None:
        from mir.families import FAMILIES

        families = FAMILIES
    lock = json.loads(LOCK.read_text(encoding="utf-8")) if LOCK.is_file() else {}
    out = ["| family | group | version | fingerprint of its code |", "|---|---|---|---|"]
    for f in families:
        fingerprint = lock.get(f.name, {}).get("fingerprint", "")
        out.append(f"| `{f.name}` | {f.group} | {f.version} | `{fingerprint}` |")
    return "\n".join(out) + "\n"


def models_readme(path: str | Path = PROJECT_ROOT / "models" / "README.md") -> str:
    """`models/README.md` as a section of a page: its title dropped, its headings one
    level down (the file stays the one place that lists every model file)."""
    out = []
    fenced = False
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("# "):
            continue
        out.append("#" + line if not fenced and re.match(r"^#{2,5} ", line) else line)
    return "\n".join(out).strip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    what = argv[0] if argv else "features"
    if what == "features":
        print(feature_reference())
    elif what == "configuration":
        print(config_reference())
    else:
        print("usage: python -m mir.reference features|configuration", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
