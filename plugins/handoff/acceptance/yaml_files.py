"""Load a YAML settings file into a pydantic model, with errors that name file, line and field.

pydantic says which field is wrong; the YAML node tree says on which line that field is.
Unknown keys get a "did you mean ...?" hint from the model's own field names.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from handoff.errors import Diagnostic, Severity

M = TypeVar("M", bound=BaseModel)

# Settings files are a screen of YAML; a larger file is a mistake, and parsing it costs time.
MAX_SETTINGS_BYTES = 256 * 1024
# Aliases let a small file stand for a huge document ("billion laughs"): count the nodes as
# if every alias were written out, and refuse a file that would be larger than any screen.
MAX_EXPANDED_NODES = 50_000
MAX_DEPTH = 64


# libyaml's parser when PyYAML has it (its wheels do): settings are read on every DAG parse.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Unreadable(Exception):
    """A scalar YAML cannot turn into a value, e.g. `2026-02-30` or a 5,000-digit integer."""

    def __init__(self, node: yaml.Node, reason: str) -> None:
        super().__init__(reason)
        self.node, self.reason = node, reason


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, but a value it cannot construct says which node it was."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as e:  # raised by int(), date() and the like
            raise _Unreadable(node, _reason(node, e)) from e


def _reason(node: yaml.Node, error: Exception) -> str:
    found = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
    shown = found if len(found) <= 40 else f"{found[:20]}...{found[-10:]} ({len(found)} chars)"
    if node.tag.endswith(":int"):
        return f"integer {shown} is too large to read"
    if node.tag.endswith(":timestamp"):
        return f"{shown!r} is not a real date or time: {error}"
    return f"{shown!r} cannot be read: {error}"


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse YAML once, keeping both the node tree (for lines) and the plain data."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _too_big(node: yaml.Node) -> str | None:
    """Say why a document is too big once its aliases are written out, or None when it is not."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(current: yaml.Node, depth: int) -> int | str:
        key = id(current)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            return "a recursive alias"
        if depth > MAX_DEPTH:
            return f"more than {MAX_DEPTH} levels of nesting"
        open_nodes.add(key)
        total = 1
        children: list[yaml.Node] = []
        if isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        elif isinstance(current, yaml.MappingNode):
            children = [part for pair in current.value for part in pair]
        for child in children:
            counted = size(child, depth + 1)
            if isinstance(counted, str):
                return counted
            total += counted
            if total > MAX_EXPANDED_NODES:
                return f"over {MAX_EXPANDED_NODES} nodes once its aliases are written out"
        open_nodes.discard(key)
        sizes[key] = total
        return total

    found = size(node, 0)
    return found if isinstance(found, str) else None


def _line_of(node: yaml.Node | None, location: tuple[int | str, ...]) -> int | None:
    """Return the 1-based line of the node at a pydantic error location."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, _ in node.value if k.value == part), None)
            if match is None:
                return line
            line = (key or match).start_mark.line + 1
            node = match
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _field_names(model: type[BaseModel], location: tuple[int | str, ...]) -> list[str]:
    """Return the allowed keys of the (nested) model that holds an unknown key."""
    current: Any = model
    for part in location[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        current = next((a for a in (annotation, *args) if hasattr(a, "model_fields")), None)
        if current is None:
            return []
    return list(current.model_fields) if hasattr(current, "model_fields") else []


def _describe(error: Any, model: type[BaseModel]) -> tuple[str, str | None]:
    location = tuple(error["loc"])
    dotted = ".".join(str(p) for p in location) or "(top level)"
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(location[-1]), _field_names(model, location), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "remove it"
        return f"unknown key {dotted!r}", hint
    if error["type"] == "missing":
        return f"missing required key {dotted!r}", None
    found = error.get("input")
    shown = f"; found {found!r}" if found is not None and not isinstance(found, dict | list) else ""
    return f"{dotted}: {error['msg']}{shown}", None


@dataclass(frozen=True)
class Loaded(Generic[M]):
    """A validated settings file and the means to point at its keys."""

    path: Path
    value: M
    node: yaml.Node

    def line(self, *location: int | str) -> int | None:
        """Return the line of a key, e.g. `line("service", "image")`."""
        return _line_of(self.node, location)


class _Refused(Exception):
    """A settings file that cannot be read: where, what, and what to do."""

    def __init__(self, line: int, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.line, self.message, self.hint = line, message, hint


def _read_yaml(data: bytes) -> tuple[yaml.Node | None, Any]:
    """Decode and parse a settings file within its limits, or raise _Refused."""
    if len(data) > MAX_SETTINGS_BYTES:
        raise _Refused(
            1,
            f"the file is {len(data)} bytes; settings are at most {MAX_SETTINGS_BYTES} bytes "
            "(a screen of YAML)",
            "is this the right file?",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise _Refused(line, f"not UTF-8 text (byte offset {e.start})") from e
    try:
        node, raw = _compose_and_construct(text)
    except RecursionError as e:
        raise _Refused(1, "the YAML nests too deeply to read; settings are a few levels") from e
    except _Unreadable as e:
        raise _Refused(
            e.node.start_mark.line + 1,
            f"invalid value: {e.reason}",
            "dates are written like 2026-01-02T09:00:00Z; numbers have a few digits",
        ) from e
    except yaml.reader.ReaderError as e:  # a character YAML forbids; it knows only the offset
        line = text[: e.position].count("\n") + 1
        raise _Refused(line, f"invalid YAML: character {e.character!r} is not allowed") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        raise _Refused(line, f"invalid YAML: {getattr(e, 'problem', None) or e}") from e
    too_big = _too_big(node) if node is not None else None
    if too_big is not None:
        raise _Refused(
            1,
            f"the YAML has {too_big}; settings are a screen of keys",
            "write the values out instead of nesting or repeating them through aliases",
        )
    return node, raw


def load_yaml_model(path: Path, model: type[M]) -> tuple[Loaded[M] | None, list[Diagnostic]]:
    """Read a YAML file into `model`; return None and every problem when it does not fit."""

    def problem(line: int | None, message: str, hint: str | None = None) -> Diagnostic:
        return Diagnostic(Severity.ERROR, path, line, message, hint)

    try:
        node, raw = _read_yaml(path.read_bytes())
    except OSError as e:
        return None, [problem(None, f"cannot read the file: {e.strerror or e}")]
    except _Refused as e:
        return None, [problem(e.line, e.message, e.hint)]
    if not isinstance(raw, dict) or node is None:
        return None, [problem(1, "expected a mapping of settings", f"found {type(raw).__name__}")]
    try:
        return Loaded(path, model.model_validate(raw), node), []
    except ValidationError as e:
        return None, [
            problem(_line_of(node, tuple(err["loc"])), *_describe(err, model)) for err in e.errors()
        ]
