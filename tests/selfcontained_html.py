"""A check shared by the screen tests: a report page is valid, self-contained HTML."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Page(HTMLParser):
    """Collects what would load from elsewhere and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.remote: list[str] = []
        self.errors: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            if tag in ("script", "link", "img", "iframe") and (a.get(key) or "").startswith(("http://", "https://", "//")):
                self.remote.append(f"<{tag} {key}={a[key]}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def check_self_contained_html(page: str) -> _Page:
    """Assert ``page`` is a whole HTML document whose elements nest and close, loading nothing over the network."""
    assert page.lstrip().lower().startswith("<!doctype html>"), page[:80]
    p = _Page()
    p.feed(page)
    p.close()
    assert not p.errors, p.errors[:5]
    assert not p.stack, f"unclosed: {p.stack}"
    assert not p.remote, p.remote
    return p
