"""MkDocs hook: the pages that are generated from the code at build time, so they cannot drift.

A page asks for generated text with a placeholder on a line of its own:

* ``<!-- suite-reference -->``: one table per pydantic model of a suite, from
  ``bench.spec.schema`` (``SuiteSpec`` and every model it nests): field, type, default and
  the field's ``description``;
* ``<!-- layout -->``: ``bench.layout.layout_markdown()``, every package and module of bench
  with the first line of its docstring;
* ``<!-- include: PATH -->``: the text of a file outside ``docs/`` (PATH relative to the
  repository root), so ``CHANGELOG.md`` and ``benchmarks/README.md`` are pages without a copy.

The CLI reference is not here: ``mkdocs-click`` renders it from ``bench.cli``. Its help texts
are plain text, where ``results/<suite>/`` would be read as an HTML tag and vanish; so between the
lines ``<!-- escape-angle-brackets -->`` and ``<!-- /escape-angle-brackets -->`` this hook writes
every ``<`` outside code as ``&lt;``, after mkdocs-click has expanded its directive.

Both import bench from this source tree (the hook puts the repository root first on
``sys.path``); neither needs torch, only click and pydantic (``docs/requirements.txt``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import re
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

log = logging.getLogger("mkdocs.hooks.reference")

ROOT = Path(__file__).resolve().parents[2]
SUITE_PLACEHOLDER = "<!-- suite-reference -->"
LAYOUT_PLACEHOLDER = "<!-- layout -->"
INCLUDE = re.compile(r"^<!-- include: (?P<path>\S+) -->$", re.MULTILINE)
ESCAPE_BEGIN, ESCAPE_END = "<!-- escape-angle-brackets -->", "<!-- /escape-angle-brackets -->"


def on_config(config: Any) -> Any:
    """Import bench from this tree, whatever else is installed; rebuild on `mkdocs serve` when its sources change."""
    root = str(ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    for watched in ("bench", "CHANGELOG.md", "benchmarks/README.md"):
        if str(ROOT / watched) not in config.watch:
            config.watch.append(str(ROOT / watched))
    config.markdown_extensions.append(EscapeAngleBrackets())
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each placeholder of the page by its generated text."""
    if SUITE_PLACEHOLDER in markdown:
        markdown = markdown.replace(SUITE_PLACEHOLDER, suite_reference())
    if LAYOUT_PLACEHOLDER in markdown:
        markdown = markdown.replace(LAYOUT_PLACEHOLDER, layout())
    return INCLUDE.sub(lambda m: (ROOT / m["path"]).read_text(encoding="utf-8"), markdown)


# --- the layout page --------------------------------------------------------------------------


def layout() -> str:
    """The module map, from ``bench.layout`` (which reads docstrings from the source, importing nothing)."""
    return importlib.import_module("bench.layout").layout_markdown()


# --- the suite reference ----------------------------------------------------------------------


def suite_reference() -> str:
    """One section per model reachable from ``SuiteSpec``, in the order a suite file nests them."""
    schema = importlib.import_module("bench.spec.schema")
    sections = []
    for model, path in nested_models(schema.SuiteSpec):
        sections.append(model_section(model, path))
    return "\n".join(sections)


def nested_models(root: type) -> list[tuple[type, str]]:
    """``(model, YAML path)`` for ``root`` and every model its fields nest, depth first, each once."""
    seen: dict[type, str] = {}

    def visit(model: type, path: str) -> None:
        if model in seen:
            return
        seen[model] = path
        for name, field in model.model_fields.items():
            for inner, is_list in models_in(field.annotation):
                child = f"{path}.{name}" if path else name
                visit(inner, child + ("[]" if is_list else ""))

    visit(root, "")
    return list(seen.items())


def models_in(annotation: Any, in_list: bool = False) -> list[tuple[type, bool]]:
    """The pydantic models an annotation names (``list[ModelSpec]``, ``AugmentSpec | None``, ...)."""
    if is_model(annotation):
        return [(annotation, in_list)]
    origin = get_origin(annotation)
    return [m for arg in get_args(annotation) for m in models_in(arg, in_list or origin is list)]


def is_model(annotation: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def model_section(model: type, path: str) -> str:
    where = f"`{path}`" if path else "the top level of a suite file"
    paragraphs = [text(p) for p in inspect.cleandoc(model.__doc__ or "").split("\n\n")]
    lines = [f"## {model.__name__}", "", f"Where: {where}.", "", *[line for p in paragraphs for line in (p, "")]]
    lines += ["| field | type | default | description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        row = [f"`{name}`", type_cell(field), default_cell(field), text(description(model, name, field))]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    return "\n".join(lines)


def description(model: type, name: str, field: Any) -> str:
    """The field's own description; for a field that has none and holds a model, that model's docstring's first line."""
    if field.description:
        return field.description
    inner = models_in(field.annotation)
    if inner:
        model_doc = inspect.cleandoc(inner[0][0].__doc__ or "").splitlines()[0]
        return f"Each item: {model_doc[0].lower()}{model_doc[1:]}" if inner[0][1] else model_doc
    log.warning("%s.%s has no Field(description=...): the suite reference would show nothing for it", model.__name__, name)
    return ""


def type_cell(field: Any) -> str:
    out = type_name(field.annotation)
    bounds = [bound for item in field.metadata for bound in constraints(item)]
    return out + (", " + ", ".join(bounds) if bounds else "")


def type_name(annotation: Any) -> str:
    """A type as a suite author reads it; pipes escaped for a table cell, models linked to their table."""
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any"
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:  # a discriminated union (the defence steps): the union itself
        return type_name(args[0])
    if origin in (Union, types.UnionType):
        # `X | None` reads "X (or null)", so that `list[float] | None` is not read as a list of float-or-null.
        named = r" \| ".join(type_name(a) for a in args if a is not type(None))
        return f"{named} (or null)" if type(None) in args else named
    if origin is Literal:
        return r" \| ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if is_model(annotation):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if isinstance(annotation, type):
        return annotation.__name__
    return text(str(annotation))


def constraints(item: Any) -> list[str]:
    """``Ge(ge=1)`` -> ``≥ 1`` and the like; anything else says nothing."""
    signs = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    out = [f"{sign} {getattr(item, attr):g}" for attr, sign in signs.items() if getattr(item, attr, None) is not None]
    if getattr(item, "min_length", None) is not None:
        out.append(f"at least {item.min_length} item{'s' if item.min_length != 1 else ''}")
    return out


def default_cell(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if is_model(type(value)):
        return "its defaults"
    return f"`{value}`" if isinstance(value, str) else f"`{json.dumps(value)}`"


_CODE = re.compile(r"(`[^`]*`)")
_SPECIAL = re.compile(r"([\\*_\[\]|])")


def text(value: str) -> str:
    """Docstring or description text for a table cell: Markdown and HTML characters escaped outside code spans, one line."""
    parts = _CODE.split(" ".join(value.split()))
    return "".join(p.replace("|", r"\|") if p.startswith("`") else _escape(p) for p in parts)


def _escape(plain: str) -> str:
    # "<" cannot be backslash-escaped in Python-Markdown (it would start raw HTML, as in "ids <id>-t<T>").
    return _SPECIAL.sub(r"\\\1", plain).replace("<", "&lt;").replace(">", "&gt;")


# --- help texts as plain text -----------------------------------------------------------------


class EscapeAngleBrackets(Extension):
    """Registers the preprocessor below after mkdocs-click's (priority 141) and before fenced code and raw HTML."""

    def extendMarkdown(self, md: Any) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(_EscapeAngleBrackets(md), "bench_escape_angle_brackets", 29)


class _EscapeAngleBrackets(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out, active, fence = [], False, False
        for line in lines:
            if line.strip() in (ESCAPE_BEGIN, ESCAPE_END):
                active = line.strip() == ESCAPE_BEGIN
                continue
            if active and line.lstrip().startswith("```"):
                fence = not fence
            elif active and not fence:
                line = "".join(p if p.startswith("`") else p.replace("<", "&lt;") for p in _CODE.split(line))
            out.append(line)
        return out
