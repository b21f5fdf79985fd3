"""A safe subset of Markdown for texts an administrator writes (the kiosk's privacy notice).

Paragraphs, line breaks, emphasis, lists, headings and links, through markdown-it-py with raw
HTML switched off: `<script>` and any other tag come out as visible text, never as markup.
A link is shown as its text followed by its address, not as something to follow (a kiosk
must not browse away), and only http(s) and mailto addresses are links at all: `javascript:`
and the like stay the literal text the administrator typed. Headings are moved down two
levels so they sit under the page's own heading. In easy Japanese, ruby markup
(`漢字《かんじ》`, frontyard.ruby) becomes <ruby> over the kanji.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

from frontyard import ruby

#: What may be written: everything else is shown as typed.
BLOCK_RULES = ["list", "heading", "lheading", "paragraph", "reference"]
INLINE_RULES = ["text", "newline", "escape", "emphasis", "link", "autolink", "entity"]
SAFE_SCHEMES = ("http://", "https://", "mailto:")
HEADING_SHIFT = 2


def _safe_link(url: str) -> bool:
    return url.strip().lower().startswith(SAFE_SCHEMES)


def _heading(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    level = min(6, int(token.tag[1:]) + HEADING_SHIFT)
    return f"<h{level}>" if token.nesting == 1 else f"</h{level}>\n"


def _link_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return ""


def _link_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """After the link's text, its address in brackets (unless the text is the address)."""
    depth, start = 0, idx
    while start > 0:
        start -= 1
        if tokens[start].type == "link_close":
            depth += 1
        elif tokens[start].type == "link_open":
            if depth == 0:
                break
            depth -= 1
    href = str(tokens[start].attrGet("href") or "")
    shown = "".join(token.content for token in tokens[start + 1:idx])
    address = href.removeprefix("mailto:")
    return "" if shown.strip() in {href, address} else f" ({escape(address)})"


def _text(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Plain text, escaped; in easy Japanese with <ruby> where it carries readings."""
    content = tokens[idx].content
    if env.get("with_ruby"):
        try:
            return str(ruby.to_html(content))
        except ruby.RubyError:
            pass
    return str(escape(content))


def _parser() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    md.enable(BLOCK_RULES + INLINE_RULES)
    md.validateLink = _safe_link  # type: ignore[method-assign]
    for name, rule in (("heading_open", _heading), ("heading_close", _heading),
                       ("link_open", _link_open), ("link_close", _link_close), ("text", _text)):
        md.add_render_rule(name, rule)
    return md


_PARSER = _parser()


def render(text: str, *, with_ruby: bool = False) -> Markup:
    """The text as safe HTML; with `with_ruby` (easy Japanese), readings over kanji."""
    return Markup(_PARSER.render(text, {"with_ruby": with_ruby}))
