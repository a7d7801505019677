"""Source kinds on real feed files and pages, fetched from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import codecs
import csv
import gzip
import html
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ParseError
from monitor.fetch import Fetcher, FetchSettings
from monitor.records import Article, FetchResult
from monitor.sources import SOURCE_KINDS, SourceOptions, register
from monitor.sources import feed as feed_mod
from monitor.sources.fastfeed import parse_simple
from monitor.sources.items import Item, decide
from monitor.sources.text import decode_document, html_to_text
from tests.servers import LoopbackServer
from tests.testdata import EXTRACTION_CORPUS, FEED_CORPUS, FEEDS, SEED, needs, over

# The single-file tests read the copies in tests/data/feeds; those over the whole corpus read ../shared.
MANIFEST = (
    {row["file"]: row for row in csv.DictReader((FEED_CORPUS / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t")}
    if FEED_CORPUS.is_dir()
    else {}
)
WELL_FORMED = sorted(name for name in MANIFEST if not name.startswith("malformed/"))
GZIPPED_INVALID = "malformed/nodefeedparser_invalid-characters-gzipped.xml"  # slow to parse: tested once, below
MALFORMED = sorted(
    {p.relative_to(FEED_CORPUS).as_posix() for p in (FEED_CORPUS / "malformed").glob("*")} - {GZIPPED_INVALID}
)
MEDUZA = "multilingual/egfedorov_meduza_ceasefire_version.xml"  # states no licence: not copied, read from ../shared
CYRILLIC = re.compile("[\u0400-\u04ff]")


def plain(raw: str) -> str:
    """The raw feed text with entities decoded and spaces collapsed, to look titles up in."""
    return " ".join(html.unescape(raw).split())


async def fetch_and_parse(
    server: LoopbackServer, path: str, body: bytes, *, kind: str = "feed", language: str | None = None, **route: object
) -> list[Article]:
    options = {"link_selector": route.pop("link_selector")} if "link_selector" in route else None
    url = server.route(path, body, **route)
    async with Fetcher(FetchSettings(read_timeout=5)) as fetcher:
        result = await fetcher.fetch(url)
    return SOURCE_KINDS[kind].parse(result, source="test", language=language, options=options)


async def feed(
    server: LoopbackServer, name: str, language: str | None = None, *, folder: Path = FEEDS, **route: Any
) -> list[Article]:
    return await fetch_and_parse(server, "/" + name, (folder / name).read_bytes(), language=language, **route)


def result(content: bytes, url: str = "http://news.example/feeds/main.xml", charset: str | None = None) -> FetchResult:
    return FetchResult(url=url, final_url=url, status=200, content=content, charset=charset)


def parse(content: bytes) -> list[Article]:
    return SOURCE_KINDS["feed"].parse(result(content), source="test")


def test_kinds_are_registered_under_their_config_names() -> None:
    assert {"feed", "html"} <= set(SOURCE_KINDS.names())

    @register("test-kind")
    class Probe:
        def parse(self, result: FetchResult, **kw: object) -> list[Article]:
            return [Article(url=result.url, source="probe", title="t")]

    try:
        assert SOURCE_KINDS["test-kind"].parse(result(b""), source="x")[0].source == "probe"
    finally:
        del SOURCE_KINDS["test-kind"]


def test_every_kind_owns_the_model_of_its_config_keys() -> None:
    models = {name: SOURCE_KINDS[name].options for name in SOURCE_KINDS.names()}
    assert all(issubclass(model, SourceOptions) for model in models.values())
    assert set(models["html"].model_fields) == {"link_selector", "title_selector", "same_site"}
    assert models["feed"].model_fields == {}


@pytest.mark.parametrize("name", over(WELL_FORMED, FEED_CORPUS))
async def test_every_real_feed_gives_every_item(http_server: LoopbackServer, name: str) -> None:
    articles = await feed(http_server, name, folder=FEED_CORPUS)
    assert len(articles) == int(MANIFEST[name]["item_count"])  # counted independently, see the corpus README
    for article in articles:
        assert article.url.startswith(("http://", "https://")) and "#" not in article.url
        assert article.source == "test" and "</p>" not in article.summary
        for when in (article.published, article.updated):
            assert when is None or when.utcoffset() == UTC.utcoffset(None)


async def test_rss2_items_with_dates_language_and_guid_fallback(http_server: LoopbackServer) -> None:
    first, second, *_ = await feed(http_server, "real/nodefeedparser_rss2sample.xml")
    assert first.title == "Star City"
    assert first.url == "http://liftoff.msfc.nasa.gov/news/2003/news-starcity.asp"
    assert first.published == datetime(2003, 6, 3, 9, 39, 21, tzinfo=UTC)
    assert first.language == "en-us"
    assert first.guid == "http://liftoff.msfc.nasa.gov/2003/06/03.html#item573"
    assert first.summary.startswith("How do Americans get ready") and first.summary.endswith("Russia's Star City.")
    # no <link>: the guid is a permalink, so it is the URL (canonical: no fragment)
    assert second.url == "http://liftoff.msfc.nasa.gov/2003/05/30.html" and second.title == ""


async def test_rss092_rss1_atom_and_json_feed(http_server: LoopbackServer) -> None:
    rss092 = await feed(http_server, "real/rssparser_heraldsun.rss")
    assert [a.title for a in rss092] == ["The First Item", "The Second Item"]
    assert rss092[0].url == "http://www.oreilly.com/example/001.html" and rss092[0].language == "en-gb"

    rdf = await feed(http_server, "real/rssparser_rss-1.rss")
    assert rdf[0].url == "http://science.sciencemag.org/cgi/content/short/356/6343/1134-a?rss=1"

    atom = await feed(http_server, "real/nodefeedparser_tpm.atom")
    assert atom[0].title.startswith("Hannity Announces Fox Has Hired Sebastian Gorka")
    assert atom[0].guid and atom[0].updated is not None

    example = await feed(http_server, "real/feedparser_example_jsonfeed.json", content_type="application/json")
    assert [(a.title, a.url, a.summary) for a in example] == [
        ("post 2", "https://example.org/second-item", "This is a second item."),
        ("", "https://example.org/initial-post", "Hello, world!"),  # script dropped
    ]
    host = http_server.url("/").split("/")[2]  # GUIDs that are not unique by form are scoped to the feed's host
    assert [a.guid for a in example] == [f"{host}:2", f"{host}:1"]

    json11 = await feed(http_server, "real/feedjira_json_feed_with_escaped_uris.json")
    assert json11[0].url == "https://lukedorny.com/updates/new-font" and json11[0].language == "en-US"
    assert json11[0].published is not None and json11[0].published.tzinfo is not None
    assert "Okay. Today we start a new typeface design" in json11[0].summary  # content_html, longer than summary


async def test_language_hint_fills_in_only_where_the_feed_says_nothing(http_server: LoopbackServer) -> None:
    said = await feed(http_server, "real/nodefeedparser_rss2sample.xml", language="ru")
    silent = await fetch_and_parse(
        http_server, "/j", (FEEDS / "real/feedparser_example_jsonfeed.json").read_bytes(), language="ru"
    )
    assert {a.language for a in said} == {"en-us"} and {a.language for a in silent} == {"ru"}


@pytest.mark.parametrize(
    ("content_type", "what"),
    [
        ("application/rss+xml", "no charset header: the XML declaration says windows-1251"),
        ("application/rss+xml; charset=utf-8", "a wrong header: not valid UTF-8, so the declaration wins"),
        ("text/xml; charset=windows-1251", "header and declaration agree"),
    ],
)
async def test_windows_1251_feed_decodes_to_russian(http_server: LoopbackServer, content_type: str, what: str) -> None:
    raw = (FEEDS / "multilingual/nodefeedparser_iconv.xml").read_bytes()
    articles = await feed(http_server, "multilingual/nodefeedparser_iconv.xml", content_type=content_type)
    assert "Бузулуке" in articles[0].title, what
    assert all(a.title in plain(raw.decode("cp1251")) and CYRILLIC.search(a.title) for a in articles)


async def test_iso_8859_1_feed_decodes_to_portuguese(http_server: LoopbackServer) -> None:
    raw = plain((FEEDS / "multilingual/rssparser_encoding.rss").read_bytes().decode("iso-8859-1"))
    articles = await feed(http_server, "multilingual/rssparser_encoding.rss")
    assert articles[0].title == "Mãe de utente é a nova presidente da Raríssimas"
    assert all(a.title in raw for a in articles)


@needs(FEED_CORPUS / MEDUZA)
async def test_utf8_feed_mis_declared_as_windows_1251(http_server: LoopbackServer) -> None:
    raw = plain((FEED_CORPUS / MEDUZA).read_bytes().decode("utf-8"))
    articles = await feed(
        http_server, MEDUZA, folder=FEED_CORPUS, content_type="application/rss+xml; charset=windows-1251"
    )
    assert len(articles) == 71 and all(a.title in raw for a in articles)
    assert any("прекращени" in a.title + a.summary for a in articles)


async def test_utf8_feed_declared_and_served_as_windows_1251(http_server: LoopbackServer) -> None:
    """The same on a plain clone: the windows-1251 Russian feed re-encoded to UTF-8, its declaration left as it was."""
    text = (FEEDS / "multilingual/nodefeedparser_iconv.xml").read_bytes().decode("cp1251")
    assert 'encoding="windows-1251"' in text[:100]
    articles = await fetch_and_parse(
        http_server, "/utf8", text.encode("utf-8"), content_type="application/rss+xml; charset=windows-1251"
    )
    assert len(articles) == 10 and "Бузулуке" in articles[0].title
    assert all(a.title in plain(text) and CYRILLIC.search(a.title) for a in articles)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])  # the utf-16 codec writes a BOM
async def test_feed_with_byte_order_mark(http_server: LoopbackServer, encoding: str) -> None:
    text = (FEEDS / "real/nodefeedparser_rss2sample.xml").read_text(encoding="utf-8")
    body = text.encode(encoding)
    assert body.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    articles = await fetch_and_parse(http_server, "/bom", body, content_type="application/rss+xml; charset=iso-8859-1")
    assert [a.title for a in articles][:1] == ["Star City"] and len(articles) == 4


async def test_bom_and_leading_space_files_are_feeds_without_items(http_server: LoopbackServer) -> None:
    for name in ("malformed/gofeed_rss_feed_bom.xml", "malformed/gofeed_rss_feed_leading_spaces.xml"):
        assert await feed(http_server, name) == []


async def test_gzip_on_disk_feed_served_either_way(http_server: LoopbackServer) -> None:
    name = "malformed/nodefeedparser_compressed.xml"
    plain = await feed(http_server, "multilingual/nodefeedparser_iconv.xml")
    raw = await feed(http_server, name)  # served as is: the parser sees gzip bytes
    encoded = await fetch_and_parse(
        http_server, "/enc", (FEEDS / name).read_bytes(), headers={"Content-Encoding": "gzip"}
    )  # the way a server serves .gz
    assert [a.title for a in raw] == [a.title for a in encoded] == [a.title for a in plain]
    assert len(plain) == 10


@needs(FEED_CORPUS / GZIPPED_INVALID)  # 130 KB of the malformed corpus, not copied
async def test_gzipped_feed_with_invalid_characters(http_server: LoopbackServer) -> None:
    articles = await feed(http_server, GZIPPED_INVALID, folder=FEED_CORPUS)
    assert len(articles) == 25 and articles[0].title == "NSOperation"


@pytest.mark.parametrize("name", over(MALFORMED, FEED_CORPUS))
async def test_malformed_input_gives_items_or_parse_error(http_server: LoopbackServer, name: str) -> None:
    try:
        articles = await feed(http_server, name, folder=FEED_CORPUS)
    except ParseError as exc:
        assert name.rsplit("/", 1)[-1] in str(exc)  # the message names the document
    else:
        assert all(a.url.startswith(("http://", "https://")) for a in articles)


@pytest.mark.parametrize(
    "name",
    [
        "malformed/gofeed_empty_feed.xml",
        "malformed/feedparser_rss_empty_document.xml",
        "malformed/nodefeedparser_notafeed.html",
        "malformed/gofeed_unknown_feed.xml",
        "malformed/gofeed_invalid.json",
        "malformed/rssparser_unrecognized.rss",
    ],
)
async def test_documents_that_are_not_feeds_raise_parse_error(http_server: LoopbackServer, name: str) -> None:
    with pytest.raises(ParseError, match="not a feed"):
        await feed(http_server, name)


# Where feedparser is the one that is wrong: it takes an image caption (media:description) for the summary, and
# lets the xml:lang of a <category> leak into the entries.
FEEDPARSER_QUIRKS = {("real/havannaa_nyt.xml", "summary"), ("multilingual/greatfire_bbc_zh.xml", "language")}


@pytest.mark.parametrize("name", over([n for n in WELL_FORMED if not n.endswith(".json")], FEED_CORPUS))
def test_fast_path_reads_feeds_as_feedparser_does(name: str) -> None:
    url = "http://news.example/" + name
    text = decode_document((FEED_CORPUS / name).read_bytes()).lstrip("\ufeff \t\r\n")
    fast = parse_simple(text, url)
    assert fast is not None  # well-formed: no fallback
    ours = feed_mod._articles(fast, url, "s", None)
    reference = feed_mod._articles(feed_mod._feedparser_items(text, url), url, "s", None)
    assert len(ours) == len(reference)
    for field in ("url", "guid", "title", "summary", "published", "updated", "language"):
        if (name, field) not in FEEDPARSER_QUIRKS:
            assert [getattr(a, field) for a in ours] == [getattr(a, field) for a in reference], field


@pytest.mark.parametrize(
    "document",
    [
        b"<rss><channel><item><title>a &nbsp; b</title></item></channel></rss>",  # HTML entity: not XML
        b'<!DOCTYPE rss [<!ENTITY x "y">]><rss><channel><item><title>&x;</title></item></channel></rss>',
        b'<feed xmlns="http://purl.org/atom/ns#"><entry/></feed>',  # Atom 0.3
        b"<html><body>not a feed</body></html>",
    ],
)
def test_fast_path_leaves_the_unusual_to_feedparser(document: bytes) -> None:
    assert parse_simple(document.decode(), "http://news.example/") is None


def test_a_broken_feed_with_items_gives_its_items() -> None:
    articles = parse((FEEDS / "malformed/nodefeedparser_saxerror.xml").read_bytes())
    assert "Good Item" in [a.title for a in articles]


def test_links_are_resolved_against_the_feed_address_and_canonicalised() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>Relative</title><link>/news/1?utm_source=rss&amp;id=7#top</link>
        <pubDate>Mon, 06 Jul 2020 12:00:00 +0300</pubDate></item>
      <item><title>No link, guid not a URL</title><guid isPermaLink="false">abc-123</guid></item>
      <item><title>Tag URI</title><link>tag:news.example,2020:1</link></item>
      <item><title>Epoch</title><link>https://other.example/a</link>
        <pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>
    </channel></rss>"""
    articles = parse(rss)
    assert [a.url for a in articles] == ["http://news.example/news/1?id=7", "https://other.example/a"]
    assert articles[0].published == datetime(2020, 7, 6, 9, 0, tzinfo=UTC)
    assert articles[1].published is None  # a zero timestamp means "no date"


def test_summary_is_the_longest_plain_text_of_description_and_content() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
      <channel><item><title>A &amp;amp; B</title><link>http://x.example/1</link>
      <description>Short teaser</description>
      <content:encoded><![CDATA[<p>The full <b>text</b> &eacute;t&eacute;</p><p>Second\xe2\x80\x8b paragraph.</p>
      <script>track()</script>]]></content:encoded></item></channel></rss>"""
    (article,) = parse(rss)
    assert article.summary == "The full text été Second paragraph."
    assert article.title == "A & B"


def test_decode_document_detects_undeclared_koi8r() -> None:
    text = decode_document((FEEDS / "malformed/feedparser_chardet_koi8r.xml").read_bytes())
    assert "Как пережить новогоднюю ночь" in text


def test_decode_document_prefers_bom_then_utf8_then_declarations() -> None:
    russian = "<p>Перемирие нарушено</p>"
    assert decode_document(codecs.BOM_UTF8 + russian.encode(), "windows-1251") == russian
    assert decode_document(russian.encode("utf-8"), "iso-8859-1") == russian  # mis-declared UTF-8
    assert decode_document(russian.encode("cp1251"), "windows-1251") == russian
    meta = f'<meta charset="windows-1251">{russian}'
    assert decode_document(meta.encode("cp1251"), None, is_html=True) == meta
    stray = (russian * 20).encode() + b"\xff"  # UTF-8 with one bad byte stays UTF-8
    assert decode_document(stray, None).startswith(russian)


def both_paths(document: bytes, url: str = "http://news.example/feed.xml") -> list[Item]:
    """The items of a well-formed feed as the fast path reads them, checked to be the fallback's too."""
    text = document.decode()
    fast = parse_simple(text, url)
    assert fast is not None
    items = [decide(item, url) for item in fast]
    assert items == [decide(item, url) for item in feed_mod._feedparser_items(text, url)]
    return items


ATOM = b'<feed xmlns="http://www.w3.org/2005/Atom">%s</feed>'
RSS = (b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/" '
       b'xmlns:itunes="http://www.itunes.com/DTDs/PodCast-1.0.dtd"><channel>%s</channel></rss>')


def test_an_id_that_is_no_url_is_no_article_link() -> None:
    """RSS 2.0: a guid is the item's permalink only when it is a URL and isPermaLink is not false; an Atom id names
    an entry, it locates nothing unless it is a URL. Neither becomes http://<feed host>/42."""
    rss = RSS % (b"<item><title>n</title><guid>42</guid></item>"
                 b"<item><title>p</title><guid>https://news.example/a/7</guid></item>"
                 b'<item><title>f</title><guid isPermaLink="false">https://news.example/a/8</guid></item>')
    assert [(i.link, i.guid) for i in both_paths(rss)] == [
        (None, "42"), ("https://news.example/a/7", "https://news.example/a/7"), (None, "https://news.example/a/8")
    ]
    atom = ATOM % b"<entry><id>1</id><title>t</title></entry>"
    assert [(i.link, i.guid) for i in both_paths(atom)] == [(None, "1")]
    assert parse(atom) == [] and [a.url for a in parse(rss)] == ["https://news.example/a/7"]


def test_a_text_is_markup_or_plain_text_as_its_type_says() -> None:
    atom = ATOM % (b'<entry><title type="text">History of the &lt;blink&gt; tag</title>'
                   b'<summary type="text">if a&lt;b and b&gt;c then</summary><link href="http://x.example/1"/></entry>'
                   b'<entry><title type="html">a &lt;b&gt;bold&lt;/b&gt; move</title>'
                   b'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>in</p><p>line</p></div>'
                   b"</content></entry>")
    plain, markup = both_paths(atom)
    assert (plain.title, plain.text) == ("History of the <blink> tag", "if a<b and b>c then")
    assert (markup.title, markup.text) == ("a bold move", "in line")
    # RSS states no types: a title is HTML when it looks like HTML (feedparser's test), else plain text
    rss = RSS % b"<item><title>A &amp;amp; B</title></item><item><title>x &lt; y, y &gt; z</title></item>"
    assert [i.title for i in both_paths(rss)] == ["A & B", "x < y, y > z"]


def test_the_elements_feedparser_reads_for_title_and_text() -> None:
    rss = RSS % (b"<item><dc:title>Dublin Core</dc:title><dc:description>described</dc:description></item>"
                 b"<item><media:title>media</media:title><title>own</title><itunes:summary>podcast</itunes:summary>"
                 b"</item><item><media:title>only media</media:title>"
                 b'<body xmlns="http://www.w3.org/1999/xhtml"><p>xhtml body</p></body></item>'
                 b"<item><title>t</title><fullitem>&lt;p&gt;full&lt;/p&gt;</fullitem></item>")
    assert [(i.title, i.text) for i in both_paths(rss)] == [
        ("Dublin Core", "described"), ("own", "podcast"), ("only media", "xhtml body"), ("t", "full")
    ]


def test_atom_style_elements_in_rss_and_a_link_written_as_text() -> None:
    rss = RSS % (b'<item><title>t</title><link href="/a/1"/><id>urn:x:1</id>'
                 b"<updated>2024-05-06T07:08:09Z</updated><summary>s</summary></item>")
    (item,) = both_paths(rss)
    assert (item.link, item.guid, item.text) == ("http://news.example/a/1", "urn:x:1", "s")
    assert item.updated == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    atom = ATOM % (b'<entry><link rel="enclosure" type="audio/mpeg">http://x.example/a.mp3</link>'
                   b"<link>http://x.example/page</link></entry>")
    assert [i.link for i in both_paths(atom)] == ["http://x.example/page"]


def test_base64_atom_content_escaped_markup_in_a_div_and_an_iframe() -> None:
    """RFC 4287 4.1.3.3: content of a type that is neither text nor XML is base64."""
    encoded = base64.b64encode("Перемирие <b>объявлено</b>".encode()).decode()
    atom = ATOM % (f'<entry><content type="application/octet-stream">{encoded}</content></entry>'
                   '<entry><content type="html"><div xmlns="http://www.w3.org/1999/xhtml">a &lt;b&gt;truce&lt;/b&gt;'
                   "</div></content></entry>").encode()
    assert [i.text for i in both_paths(atom)] == ["Перемирие <b>объявлено</b>", "a truce"]
    assert html_to_text("<iframe>safe <b>description</b></iframe> after") == "safe description after"


def test_a_cdf_channel_without_items_is_a_feed() -> None:
    assert parse(b"<CHANNEL><TITLE>Example feed</TITLE></CHANNEL>") == []


def test_html_to_text() -> None:
    assert (
        html_to_text("<div>Cease<b>fire</b><p>holds</p>&amp; talks<br>go on</div>") == "Ceasefire holds & talks go on"
    )
    assert html_to_text("a < b and c > d") == "a < b and c > d"
    assert html_to_text("x \u200by\n\n z") == "x y z"
    assert html_to_text("Use the <title> element") == "Use the element"  # an unclosed <title> runs to the end
    assert html_to_text("<!DOCTYPE html><!-- nothing -->") == ""


# --- html listing pages ---


async def test_html_listing_links_from_a_real_page(http_server: LoopbackServer) -> None:
    body = (SEED / "article.html").read_bytes()
    articles = await fetch_and_parse(
        http_server,
        "/eng/news/escalation-karabakh/",
        body,
        kind="html",
        content_type="text/html",
        link_selector="aside a",
    )
    base = http_server.base
    assert [a.url for a in articles] == [f"{base}/eng/news/30000{i}/" for i in range(4)] + ["https://partner.example/1"]
    assert articles[0].title.startswith("The EU does not intend to conduct military exercises with Armenia")
    assert {a.language for a in articles} == {"en"}  # <html lang>


def test_html_same_site_filter_title_selector_and_duplicates() -> None:
    page = b"""<html><head><base href="/news/"></head><body>
      <article><a href="a.html?utm_medium=x"><img src=i.jpg alt="Pic"></a>
               <a href="a.html"><h2>Truce agreed</h2><span>2 min read</span></a></article>
      <article><a href="https://sub.news.example/b">Other</a></article>
      <article><a href="https://elsewhere.example/c">Away</a></article>
      <article><a href="javascript:void(0)">JS</a><a href="#top">Top</a></article>
    </body></html>"""
    res = result(page, url="http://www.news.example/index.html")
    kind = SOURCE_KINDS["html"]
    every = kind.parse(res, source="s", options={"link_selector": "article a", "title_selector": "h2"})
    assert [(a.url, a.title) for a in every] == [
        ("http://www.news.example/news/a.html", "Truce agreed"),  # image link first, text title from the later link
        ("https://sub.news.example/b", "Other"),
        ("https://elsewhere.example/c", "Away"),
    ]
    same = kind.parse(res, source="s", options={"link_selector": "article a", "same_site": True})
    assert [a.url for a in same] == ["http://www.news.example/news/a.html", "https://sub.news.example/b"]
    assert same[0].title == "Truce agreed 2 min read"  # no title_selector: the link text


def test_html_windows_1251_page_with_meta_charset() -> None:
    titles = [a.title for a in parse((FEEDS / "multilingual/nodefeedparser_iconv.xml").read_bytes())]
    links = "".join(f'<h2><a href="/news/{i}/">{t}</a></h2>' for i, t in enumerate(titles))
    page = f'<html lang="ru"><head><meta charset="windows-1251"></head><body>{links}</body></html>'
    articles = SOURCE_KINDS["html"].parse(
        result(page.encode("cp1251"), url="http://www.oren.ru/"), source="s", options={"link_selector": "h2 a"}
    )
    assert [a.title for a in articles] == titles and articles[0].language == "ru"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs link_selector"),
        ({"link_selector": "h2 >> a"}, "invalid CSS selector"),
        ({"link_selector": "table.news a"}, "nothing on the page matches"),
        ({"link_selector": "footer"}, "none is an http"),
    ],
)
def test_html_selector_problems_are_parse_errors(options: dict[str, str], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        SOURCE_KINDS["html"].parse(result((SEED / "article.html").read_bytes()), source="s", options=options)


@needs(EXTRACTION_CORPUS)
def test_real_news_pages_give_distinct_canonical_links() -> None:
    pages = sorted((EXTRACTION_CORPUS / "html").glob("*.html.gz"))[:5]
    for page in pages:
        articles = SOURCE_KINDS["html"].parse(
            result(gzip.decompress(page.read_bytes()), url="https://site.example/section/"),
            source="s",
            options={"link_selector": "a[href]"},
        )
        urls = [a.url for a in articles]
        assert urls and len(urls) == len(set(urls))
        assert all(u.startswith(("http://", "https://")) and "#" not in u and "utm_" not in u for u in urls)
