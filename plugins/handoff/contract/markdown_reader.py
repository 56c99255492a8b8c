"""Read markdown contracts (canonical and inline-bold forms) into an `Outline`.

The markdown parser (markdown-it, with source maps) gives the structure: headings, lists,
paragraphs, fenced code. This module only decides what each block means for a contract:
which heading starts the contract, which starts a section or a criterion group, and which
bold label is a header field. Fenced code is never contract content.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from markdown_it_pyrs import MarkdownIt, Node

from handoff.contract.model import ContractForm
from handoff.contract.outline import (
    Entry,
    Group,
    Outline,
    Section,
    SectionKey,
    field_key,
    section_key,
)
from handoff.contract.source import LineIndex

MARKER = "HANDOFF/V1"
_PARSER = MarkdownIt("commonmark")
_LIST_NODES = frozenset({"bullet_list", "ordered_list"})
_BREAKS = frozenset({"softbreak", "hardbreak"})
# Sections whose sub-headings are groups even at the section's own heading level.
_GROUPED = frozenset({SectionKey.ACCEPTANCE_CRITERIA, SectionKey.ARTIFACTS, SectionKey.RISKS})
_NOT_INLINE = frozenset({"fence", "code_block", "heading", "hr", "html_block", "blockquote"})
# Sections started by a bold label (`**Objective**: ...`) sit below every heading level.
_INLINE_LEVEL = 7


def parse_markdown(text: str) -> Node:
    """Parse markdown into a node tree with byte source maps."""
    return _PARSER.tree(text)


def flatten(nodes: Iterable[Node]) -> str:
    """Return the plain text of inline nodes; line breaks become spaces."""
    parts: list[str] = []
    for node in nodes:
        if node.name in _BREAKS:
            parts.append(" ")
        elif "content" in node.meta and node.name in ("text", "code_inline"):
            parts.append(str(node.meta["content"]))
        else:
            parts.append(flatten(node.children))
    return "".join(parts)


def _level(heading: Node) -> int:
    level = heading.meta.get("level", 1)
    return level if isinstance(level, int) else 1


def heading_text(node: Node) -> str:
    """Return a heading's text."""
    return flatten(node.children).strip()


def _split_lines(inline: Sequence[Node]) -> list[list[Node]]:
    lines: list[list[Node]] = [[]]
    for node in inline:
        if node.name in _BREAKS:
            lines.append([])
        else:
            lines[-1].append(node)
    return [line for line in lines if line]


def _checkbox(nodes: list[Node]) -> tuple[bool | None, list[Node], str]:
    """Strip a leading task-list marker ('[ ] ' or '[x] '); return it and any text after it."""
    if not nodes or nodes[0].name != "text":
        return None, nodes, ""
    content = str(nodes[0].meta.get("content", ""))
    marker = content[:3].lower()
    if marker not in ("[ ]", "[x]"):
        return None, nodes, ""
    return marker == "[x]", nodes[1:], content[3:].strip()


def _labelled(nodes: list[Node]) -> tuple[str | None, str]:
    """Split `**Label**: text` or `**Label:** text` into label and text."""
    start = 0
    # Decoration before the label (an emoji, a bullet glyph) does not count.
    while start < len(nodes) and nodes[start].name == "text":
        if any(ch.isalnum() for ch in str(nodes[start].meta.get("content", ""))):
            break
        start += 1
    if start >= len(nodes) or nodes[start].name != "strong":
        return None, flatten(nodes).strip()
    label = flatten(nodes[start].children).strip()
    rest = flatten(nodes[start + 1 :]).strip()
    if label.endswith(":"):
        return label[:-1].strip(), rest
    if rest.startswith(":"):
        return label, rest[1:].strip()
    return None, flatten(nodes).strip()


class _Reader:
    """Walks the contract region's blocks and fills an outline."""

    def __init__(self, index: LineIndex, outline: Outline) -> None:
        self.index = index
        self.outline = outline
        self.section: Section | None = None

    def line(self, node: Node) -> int:
        return self.index.line_of(node.srcmap[0]) if node.srcmap else 0

    def read(self, blocks: Iterable[Node]) -> None:
        for node in blocks:
            if node.name == "heading":
                self.heading(node)
            elif node.name == "paragraph":
                self.paragraph(node)
            elif node.name in _LIST_NODES:
                for item in node.children:
                    self.add(self.list_item(item))
            elif node.name == "blockquote":
                self.read(node.children)
            # Fenced and indented code, tables, rules and HTML are never contract content.

    def heading(self, node: Node) -> None:
        level = _level(node)
        title = heading_text(node)
        key = section_key(title)
        if key is not None:
            self.start_section(key, title, self.line(node), level)
        elif self.section is not None and (
            level > self.section.level or self.section.key in _GROUPED
        ):
            self.section.groups.append(Group(title, self.line(node)))
        else:
            self.section = None

    def start_section(self, key: SectionKey, title: str, line: int, level: int) -> Section:
        # A section named twice (e.g. a heading and a bold label) continues the first one.
        section = self.outline.sections.get(key)
        if section is None:
            section = Section(key, title, line, level)
            self.outline.sections[key] = section
        self.section = section
        return section

    def paragraph(self, node: Node) -> None:
        lines = _split_lines(node.children)
        labelled = [_labelled(line) for line in lines]
        if lines and all(label for label, _ in labelled):
            # Inline-bold form: each `**Label**: value` line is a field, starts a section, or
            # is a labelled entry of the current section.
            for line_nodes, (label, text) in zip(lines, labelled, strict=True):
                line = self.line(line_nodes[0]) or self.line(node)
                self.add(Entry(label, text, line), may_start_section=True)
            return
        self.add(Entry(None, flatten(node.children).strip(), self.line(node), prose=True))

    def list_item(self, node: Node) -> Entry:
        inline: list[Node] = []
        children: list[Entry] = []
        for child in node.children:
            if child.name in _LIST_NODES:
                children.extend(self.list_item(item) for item in child.children)
            elif child.name == "paragraph" and not inline:
                inline = list(child.children)
            elif child.name == "paragraph":
                # Later paragraphs of a loose item are details of the item.
                children.append(Entry(*_labelled(list(child.children)), self.line(child)))
            elif child.name not in _NOT_INLINE:
                inline.append(child)
        checked, inline, leading = _checkbox(inline)
        if leading:
            label, text = None, f"{leading} {flatten(inline)}".strip()
        else:
            label, text = _labelled(inline)
        return Entry(label, text, self.line(node), checked, children)

    def add(self, entry: Entry, *, may_start_section: bool = False) -> None:
        # Header fields and bold-label sections live at the top of the contract, in Handoff
        # Details, or between other bold-label sections; inside a heading section a label
        # such as "Communication Plan" is just the name of a criterion.
        at_top = (
            self.section is None
            or self.section.key is SectionKey.DETAILS
            or self.section.level == _INLINE_LEVEL
        )
        if entry.label is not None and at_top:
            key = field_key(entry.label)
            if key is not None:
                self.outline.fields.setdefault(key, entry)
                return
            section = section_key(entry.label)
            if section is not None and may_start_section:
                started = self.start_section(section, entry.label, entry.line, _INLINE_LEVEL)
                if entry.text:
                    started.current_group().entries.append(Entry(None, entry.text, entry.line))
                return
        if self.section is not None:
            self.section.current_group().entries.append(entry)


def _contract_region(blocks: list[Node]) -> tuple[int, int, Node | None]:
    """Return the block range of the contract: after its HANDOFF/V1 heading, to its end."""
    for position, node in enumerate(blocks):
        if node.name == "heading" and MARKER.lower() in heading_text(node).lower():
            level = _level(node)
            end = next(
                (
                    i
                    for i in range(position + 1, len(blocks))
                    if blocks[i].name == "heading" and _level(blocks[i]) <= level
                ),
                len(blocks),
            )
            return position + 1, end, node
    return 0, len(blocks), None


def _title_from(heading: Node | None) -> str | None:
    if heading is None:
        return None
    text = heading_text(heading)
    after = text[text.lower().find(MARKER.lower()) + len(MARKER) :]
    after = after.strip().removeprefix("Contract").removeprefix("contract").strip(" :-–—")
    return after or None


def read_markdown(tree: Node, index: LineIndex) -> Outline:
    """Read the contract part of a markdown document into an outline."""
    blocks = list(tree.children)
    start, end, heading = _contract_region(blocks)
    outline = Outline(ContractForm.MARKDOWN, title=_title_from(heading))
    outline.has_marker = heading is not None
    _Reader(index, outline).read(blocks[start:end])
    if not outline.has_marker:
        outline.has_marker = any(
            MARKER in e.text or e.label == MARKER for e in outline.all_entries()
        )
    if outline.sections.get(SectionKey.DETAILS) is None and outline.fields:
        outline.form = ContractForm.INLINE_BOLD
    return outline
