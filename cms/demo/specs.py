"""What a demo page is made of: `DemoPage` (where it goes, what it says in English) with its
`Translation` (`DemoPage.ja`), and the helpers for the blocks of their bodies. Shared by the page
lists (`cms.demo.pages`, `cms.demo.catalogue`)."""

from __future__ import annotations

from dataclasses import dataclass

from wagtail.models import Page


@dataclass(frozen=True)
class Translation:
    """A demo page's text in another language (the page's Japanese version: `DemoPage.ja`).

    `body` has the same blocks as the page's own body, in the same order."""

    title: str
    intro: str
    body: list[tuple[str, object]]


@dataclass(frozen=True)
class DemoPage:
    """One page of the demo tree: where it goes and what it says (in English; `ja` in
    Japanese, written for Japanese readers rather than translated word for word)."""

    parent: str | None
    slug: str
    model: type[Page]
    title: str
    intro: str
    picture: str
    body: list[tuple[str, object]]
    tags: tuple[str, ...] = ()
    ja: Translation | None = None


def _p(text: str) -> tuple[str, str]:
    return ("paragraph", f"<p>{text}</p>")


def _h(text: str) -> tuple[str, dict]:
    return ("heading", {"text": text, "level": "h2"})
