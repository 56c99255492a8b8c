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
# Inline text is kept as plain `str` children (most nodes are text: no object per node), and
# a soft or hard line break as the string LINE_BREAK (text nodes never contain a newline).
LINE_BREAK = "\n"
_BREAKS = frozenset({"softbreak", "hardbreak"})
_INLINE = frozenset({"strong", "em", "link", "image", "strikethrough"})


@dataclass(slots=True)
class MdNode:
    """A markdown node: its kind, first line (blocks only), text and children."""

    name: str
    line: int = 0
    content: str = ""
    level: int = 0
    children: list[Child] = field(default_factory=list)


Child = MdNode | str


def _convert(node: Node, index: LineIndex) -> Child:
    name = node.name
    if name == "text":
        return str(node.meta.get("content", ""))
    if name in _BREAKS:
        return LINE_BREAK
    children = [_convert(child, index) for child in node.children]
    if name == "code_inline":
        return flatten(children)
    if name in _INLINE:
        return MdNode(name, children=children)
    srcmap = node.srcmap
    converted = MdNode(name, index.line_of(srcmap[0]) if srcmap else 0, children=children)
    if name == "heading":
        level = node.meta.get("level", 1)
        converted.level = level if isinstance(level, int) else 1
    elif name in ("fence", "code_block"):
        converted.content = str(node.meta.get("content", ""))
    return converted


def parse_markdown(text: str, index: LineIndex) -> MdNode:
    """Parse markdown text into a slim tree with 1-based block lines."""
    root = _convert(_PARSER.tree(text), index)
    assert isinstance(root, MdNode)
    return root


def flatten(nodes: Iterable[Child]) -> str:
    """Return the plain text of inline nodes; line breaks become spaces."""
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(" " if node == LINE_BREAK else node)
        else:
            parts.append(flatten(node.children))
    return "".join(parts)


def walk(node: MdNode) -> Iterable[MdNode]:
    """Yield a node and its descendant nodes (not their text), depth first."""
    yield node
    for child in node.children:
        if isinstance(child, MdNode):
            yield from walk(child)
