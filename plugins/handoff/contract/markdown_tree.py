"""Parse markdown with markdown-it (Rust port, with source maps) into a slim Python tree.

Every attribute read on a parser node crosses into Rust and builds new Python objects, and
the DAG processor parses every contract on every pass. So the tree is converted once, reading
only what a contract needs: names everywhere, lines of blocks, text of text nodes, heading
levels and fence contents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from markdown_it_pyrs import MarkdownIt, Node

from handoff.contract.source import LineIndex

_PARSER = MarkdownIt("commonmark")
BREAKS = frozenset({"softbreak", "hardbreak"})
# Inline nodes whose position the reader never needs.
_INLINE = frozenset({"text", "strong", "em", "link", "image", "code_inline", *BREAKS})


@dataclass(slots=True)
class MdNode:
    """A markdown node: its kind, first line (blocks only), text and children."""

    name: str
    line: int = 0
    content: str = ""
    level: int = 0
    info: str = ""
    children: list[MdNode] = field(default_factory=list)


def _convert(node: Node, index: LineIndex) -> MdNode:
    name = node.name
    if name == "text":
        return MdNode(name, content=str(node.meta.get("content", "")))
    if name in BREAKS:
        return MdNode(name)
    children = [_convert(child, index) for child in node.children]
    if name in _INLINE:
        if name == "code_inline":
            return MdNode(name, content=flatten(children))
        return MdNode(name, children=children)
    srcmap = node.srcmap
    converted = MdNode(name, index.line_of(srcmap[0]) if srcmap else 0, children=children)
    if name == "heading":
        level = node.meta.get("level", 1)
        converted.level = level if isinstance(level, int) else 1
    elif name in ("fence", "code_block"):
        meta = node.meta
        converted.content = str(meta.get("content", ""))
        converted.info = str(meta.get("info", ""))
    return converted


def parse_markdown(text: str, index: LineIndex) -> MdNode:
    """Parse markdown text into a slim tree with 1-based block lines."""
    return _convert(_PARSER.tree(text), index)


def flatten(nodes: Iterable[MdNode]) -> str:
    """Return the plain text of inline nodes; line breaks become spaces."""
    parts: list[str] = []
    for node in nodes:
        if node.content or node.name in ("text", "code_inline"):
            parts.append(node.content)
        elif node.name in BREAKS:
            parts.append(" ")
        else:
            parts.append(flatten(node.children))
    return "".join(parts)


def walk(node: MdNode) -> Iterable[MdNode]:
    """Yield a node and its descendants, depth first."""
    yield node
    for child in node.children:
        yield from walk(child)
