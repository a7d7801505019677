"""Source kind `html`: a listing page; CSS selectors pick the article links (`HtmlOptions`).

A page is read up to its `MAX_HTML_ELEMENTS`-th element and gives its first `MAX_ITEMS` links.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import Tag
from pydantic import Field

from monitor.errors import NoLinks, ParseError
from monitor.records import Article, FetchResult
from monitor.sources import SourceOptions, first_items, read_options, register
from monitor.sources.selectors import CssSelector
from monitor.sources.text import clean_text, decode_document, first_elements, soup_of
from monitor.urls import canonical_url

NOT_ARTICLES = ("javascript:", "mailto:", "tel:", "data:", "#")


class HtmlOptions(SourceOptions):
    """The keys of an `html` source."""

    link_selector: CssSelector = Field(min_length=1)  # CSS selector of the article links, e.g. "h2 a"
    # CSS selector of the title inside each link; default the link's text (an image-only link takes the title
    # of a later link to the same URL, or none)
    title_selector: CssSelector | None = None
    same_site: bool = False  # keep only links on the listing page's host or its subdomains (www. ignored)


@register("html")
class HtmlKind:
    """A page listing articles: one Article per distinct link the selector finds, titled by the link text."""

    options = HtmlOptions

    def parse(
        self,
        result: FetchResult,
        *,
        source: str,
        language: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> list[Article]:
        keys = read_options(HtmlOptions, options, source)
        page = result.final_url or result.url
        with soup_of(first_elements(decode_document(result.content, result.charset, is_html=True), result.url)) as soup:
            base_tag = soup.find("base", href=True)
            base = urljoin(page, str(base_tag["href"])) if isinstance(base_tag, Tag) else page
            titles = _links(list(soup.select(keys.link_selector)), base, keys.title_selector, source)
            html_tag = soup.find("html")
            lang = html_tag.get("lang") if isinstance(html_tag, Tag) else None
        if keys.same_site:
            titles = {url: title for url, title in titles.items() if _same_site(url, page)}
        page_language = clean_text(lang) if isinstance(lang, str) and lang.strip() else None
        return [
            Article(url=url, source=source, title=title, language=page_language or language)
            for url, title in first_items(list(titles.items()), source, result.url)
        ]


def _links(elements: list[Tag], base: str, title_selector: str | None, source: str) -> dict[str, str]:
    """Canonical URL -> title for each distinct http(s) link, in page order; a later title fills an empty one."""
    if not elements:
        raise NoLinks(f"source {source}: nothing on the page matches link_selector")
    found: dict[str, str] = {}
    for element in elements:
        link = element if element.has_attr("href") else element.find("a", href=True)
        if not isinstance(link, Tag):
            continue
        href = str(link["href"]).strip()
        if not href or href.lower().startswith(NOT_ARTICLES):
            continue
        url = canonical_url(href, base)
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        title = _title(link, title_selector)
        if not found.get(url):
            found[url] = title
    if not found:
        raise ParseError(f"source {source}: {len(elements)} elements match link_selector but none is an http(s) link")
    return found


def _title(link: Tag, title_selector: str | None) -> str:
    """The text of `title_selector` inside the link, else the link's text ("" for an image-only link)."""
    inner = link.select(title_selector) if title_selector else []
    return clean_text((inner[0] if inner else link).get_text(" "))


def _same_site(url: str, page: str) -> bool:
    """`url` is on the page's host or a subdomain of it (www. ignored)."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    site = (urlsplit(page).hostname or "").removeprefix("www.")
    return host == site or host.endswith("." + site)
