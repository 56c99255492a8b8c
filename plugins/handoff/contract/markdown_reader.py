"""Read markdown contracts (canonical and inline-bold forms) into an `Outline`.

The markdown parser (markdown-it, with source maps) gives the structure: headings, lists,
paragraphs, fenced code. This module only decides what each block means for a contract:
which heading starts the contract, which starts a section or a criterion group, and which
bold label is a header field. Fenced code is never contract content.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from handoff.contract.markdown_tree import LINE_BREAK, Child, MdNode, flatten
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

MARKER = "HANDOFF/V1"
_LIST_NODES = frozenset({"bullet_list", "ordered_list"})
# Sections whose sub-headings are groups even at the section's own heading level.
_GROUPED = frozenset({SectionKey.ACCEPTANCE_CRITERIA, SectionKey.ARTIFACTS, SectionKey.RISKS})
_NOT_INLINE = frozenset({"fence", "code_block", "heading", "hr", "html_block", "blockquote"})
# Sections started by a bold label (`**Objective**: ...`) sit below every heading level.
_INLINE_LEVEL = 7


def heading_text(node: MdNode) -> str:
    """Return a heading's text."""
    return flatten(node.children).strip()


def _split_lines(inline: Sequence[Child]) -> list[list[Child]]:
    lines: list[list[Child]] = [[]]
    for node in inline:
        if node == LINE_BREAK:
            lines.append([])
        else:
            lines[-1].append(node)
    return [line for line in lines if line]


def _checkbox(nodes: list[Child]) -> tuple[bool | None, list[Child], str]:
    """Strip a leading task-list marker ('[ ] ' or '[x] '); return it and any text after it."""
    if not nodes or not isinstance(nodes[0], str):
        return None, nodes, ""
    marker = nodes[0][:3].lower()
    if marker not in ("[ ]", "[x]"):
        return None, nodes, ""
    return marker == "[x]", nodes[1:], nodes[0][3:].strip()


def _labelled(nodes: list[Child]) -> tuple[str | None, str]:
    """Split `**Label**: text` or `**Label:** text` into label and text."""
    start = 0
    # Decoration before the label (an emoji, a bullet glyph) does not count.
    while start < len(nodes):
        node = nodes[start]
        if not isinstance(node, str) or any(ch.isalnum() for ch in node):
            break
        start += 1
    if start >= len(nodes):
        return None, flatten(nodes).strip()
    first = nodes[start]
    if isinstance(first, str) or first.name != "strong":
        return None, flatten(nodes).strip()
    label = flatten(first.children).strip()
    rest = flatten(nodes[start + 1 :]).strip()
    if label.endswith(":"):
        return label[:-1].strip(), rest
    if rest.startswith(":"):
        return label, rest[1:].strip()
    return None, flatten(nodes).strip()


class _Reader:
    """Walks the contract region's blocks and fills an outline."""

    def __init__(self, outline: Outline) -> None:
        self.outline = outline
        self.section: Section | None = None

    def read(self, blocks: Iterable[Child]) -> None:
        for node in blocks:
            if isinstance(node, str):
                continue
            if node.name == "heading":
                self.heading(node)
            elif node.name == "paragraph":
                self.paragraph(node)
            elif node.name in _LIST_NODES:
                for item in node.children:
                    if isinstance(item, MdNode):
                        self.add(self.list_item(item))
            elif node.name == "blockquote":
                self.read(node.children)
            # Fenced and indented code, tables, rules and HTML are never contract content.

    def heading(self, node: MdNode) -> None:
        level = node.level
        title = heading_text(node)
        key = section_key(title)
        if key is not None:
            self.start_section(key, title, node.line, level)
        elif self.section is not None and (
            level > self.section.level or self.section.key in _GROUPED
        ):
            self.section.groups.append(Group(title, node.line))
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

    def paragraph(self, node: MdNode) -> None:
        lines = _split_lines(node.children)
        labelled = [_labelled(line) for line in lines]
        if lines and all(label for label, _ in labelled):
            # Inline-bold form: each `**Label**: value` line is a field, starts a section, or
            # is a labelled entry of the current section.
            # Each line of the paragraph is one source line (a soft or hard break).
            for offset, (label, text) in enumerate(labelled):
                self.add(Entry(label, text, node.line + offset), may_start_section=True)
            return
        self.add(Entry(None, flatten(node.children).strip(), node.line, prose=True))

    def list_item(self, node: MdNode) -> Entry:
        inline: list[Child] = []
        children: list[Entry] = []
        for child in node.children:
            if isinstance(child, str):
                inline.append(child)
            elif child.name in _LIST_NODES:
                children.extend(
                    self.list_item(item) for item in child.children if isinstance(item, MdNode)
                )
            elif child.name == "paragraph" and not inline:
                inline = list(child.children)
            elif child.name == "paragraph":
                # Later paragraphs of a loose item are details of the item.
                children.append(Entry(*_labelled(list(child.children)), child.line))
            elif child.name not in _NOT_INLINE:
                inline.append(child)
        checked, inline, leading = _checkbox(inline)
        if leading:
            label, text = None, f"{leading} {flatten(inline)}".strip()
        else:
            label, text = _labelled(inline)
        return Entry(label, text, node.line, checked, children)

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


def _contract_region(blocks: list[MdNode]) -> tuple[int, int, MdNode | None]:
    """Return the block range of the contract: after its HANDOFF/V1 heading, to its end."""
    for position, node in enumerate(blocks):
        if node.name == "heading" and MARKER.lower() in heading_text(node).lower():
            level = node.level
            end = next(
                (
                    i
                    for i in range(position + 1, len(blocks))
                    if blocks[i].name == "heading" and blocks[i].level <= level
                ),
                len(blocks),
            )
            return position + 1, end, node
    return 0, len(blocks), None


def _title_from(heading: MdNode | None) -> str | None:
    if heading is None:
        return None
    text = heading_text(heading)
    after = text[text.lower().find(MARKER.lower()) + len(MARKER) :]
    after = after.strip().removeprefix("Contract").removeprefix("contract").strip(" :-–—")
    return after or None


def read_markdown(tree: MdNode) -> Outline:
    """Read the contract part of a markdown document into an outline."""
    blocks = [node for node in tree.children if isinstance(node, MdNode)]
    start, end, heading = _contract_region(blocks)
    outline = Outline(ContractForm.MARKDOWN, title=_title_from(heading))
    outline.has_marker = heading is not None
    _Reader(outline).read(blocks[start:end])
    if outline.sections.get(SectionKey.DETAILS) is None and outline.fields:
        outline.form = ContractForm.INLINE_BOLD
    return outline
