"""The forms of the app's pages, as a browser would see them: each form's target, method and
fields with the values the page offers, read from the HTML (for the generic fuzzing of every
route, tests/test_fuzz_routes.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


@dataclass
class PageForm:
    """One form: where it posts, how, and each field's name with the values offered for it."""

    action: str
    method: str
    multipart: bool
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)

    def offer(self, name: str, value: str) -> None:
        """Note a value the page offers for a field (a checkbox, an option, a default)."""
        values = self.fields.setdefault(name, [])
        if value not in values:
            values.append(value)


class _FormReader(HTMLParser):
    """Collects forms, and htmx buttons posting outside a form, from one page."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[PageForm] = []
        self.current: PageForm | None = None
        self.select: str | None = None
        self.textarea: str | None = None
        self.text: list[str] = []

    def _target(self, raw: str | None) -> str:
        return urlsplit(urljoin(self.page_url, raw or self.page_url)).path

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open forms, note fields and options, and forms of one htmx button."""
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            method = "post" if "hx-post" in a else a.get("method", "get").lower()
            self.current = PageForm(self._target(a.get("hx-post") or a.get("action")), method,
                                    "multipart" in a.get("enctype", ""))
            self.forms.append(self.current)
            return
        if "hx-post" in a and tag != "form":  # a button that posts on its own
            own = PageForm(self._target(a["hx-post"]), "post", False)
            if a.get("name"):
                own.offer(a["name"], a.get("value", ""))
            self.forms.append(own)
        form, name = self.current, a.get("name")
        if form is None or not name:
            return
        if tag == "input":
            if a.get("type") == "file":
                form.files.add(name)
            else:
                form.offer(name, a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "button":
            form.offer(name, a.get("value", ""))
        elif tag == "select":
            self.select = name
            form.fields.setdefault(name, [])
        elif tag == "option" and self.select:
            form.offer(self.select, a.get("value", ""))
        elif tag == "textarea":
            self.textarea, self.text = name, []

    def handle_data(self, data: str) -> None:
        """A textarea's text is its value."""
        if self.textarea:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        """Close what was open."""
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.current is not None and self.textarea:
            self.current.offer(self.textarea, "".join(self.text))
            self.textarea = None


def forms_of(page_url: str, html: str) -> list[PageForm]:
    """Every form of a page (GET forms too: their fields are the query string's names)."""
    reader = _FormReader(page_url)
    reader.feed(html)
    return reader.forms


def path_pattern(path: str) -> re.Pattern[str]:
    """A route's path ("/admin/users/{user_id:int}") as a regex matching its addresses."""
    parts = re.split(r"(\{[^}]+\})", path)
    regex = "".join(
        ("[0-9]+" if part.endswith(":int}") else "[^/]+") if part.startswith("{")
        else re.escape(part) for part in parts)
    return re.compile(regex + "$")

