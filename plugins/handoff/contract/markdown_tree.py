"""Parse markdown with markdown-it (Rust port, with source maps) into a slim Python tree.

Every attribute read on a parser node crosses into Rust and builds new Python objects, and
the DAG processor parses every contract on every pass. So the tree is converted once, reading
only what a contract needs: names everywhere, lines of blocks, text of text nodes, heading
levels and fence contents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from markdown_it_pyrs import MarkdownIt, Node

from handoff.contract.limits import MAX_MARKDOWN_TREE_DEPTH, TooDeep, markdown_too_deep
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


class MarkdownTooDeep(ValueError):
    """Markdown nested beyond what the parser and the readers can safely follow."""

    def __init__(self, problem: TooDeep) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _convert(node: Node, line_of: Callable[[int], int], depth: int, parent_line: int) -> Child:
    # Hot path (every node of every contract on every DAG-processor pass): read each Rust
    # attribute once and build nodes positionally.
    name = node.name
    if name == "text":
        return str(node.meta["content"])
    if name in _BREAKS:
        return LINE_BREAK
    srcmap = None if name in _INLINE else node.srcmap
    line = line_of(srcmap[0]) if srcmap else 0
    if depth > MAX_MARKDOWN_TREE_DEPTH:  # the recursion here and in every reader stays shallow
        raise MarkdownTooDeep(
            TooDeep(
                line or parent_line,
                f"markdown nests more than {MAX_MARKDOWN_TREE_DEPTH} levels deep "
                "(lists, quotes, emphasis, links)",
                "a contract needs a few levels; flatten the nesting",
            )
        )
    children = [_convert(child, line_of, depth + 1, line or parent_line) for child in node.children]
    if name in _INLINE:
        return MdNode(name, 0, "", 0, children)
    if name == "code_inline":
        return flatten(children)
    if name == "heading":
        level = node.meta.get("level", 1)
        return MdNode(name, line, "", level if isinstance(level, int) else 1, children)
    if name in ("fence", "code_block"):
        return MdNode(name, line, str(node.meta.get("content", "")), 0, children)
    return MdNode(name, line, "", 0, children)


def parse_markdown(text: str, index: LineIndex) -> MdNode:
    """Parse markdown text into a slim tree with 1-based block lines.

    Raises `MarkdownTooDeep` (before the parser runs, where the text shows it) for nesting
    beyond `handoff.contract.limits`.
    """
    too_deep = markdown_too_deep(text)
    if too_deep is not None:
        raise MarkdownTooDeep(too_deep)
    root = _convert(_PARSER.tree(text), index.line_of, 0, 1)
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
