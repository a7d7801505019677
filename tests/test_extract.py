# ruff: noqa: RUF001  (Cyrillic test text is meant)
"""monitor.extract: decoding, generic body extraction, selector override, page metadata."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import SelectorError
from monitor.extract import PageInfo, decode_html, extract_body, extract_page, score_entry
from monitor.records import FetchResult, parse_datetime
from monitor.sources import SOURCE_KINDS
from tests.testdata import EXTRACTION, EXTRACTION_CORPUS, SEED, SEED_BODY, needs

SEED_URL = "http://www.panarmenian.net/eng/news/escalation-karabakh/"
SIDEBAR_PHRASES = ("Top stories", "Partner news", "Partner story", "USAID", "Peskov", "vandalised", "rights reserved")
WORD = re.compile(r"\w+")

RUSSIAN = (
    "Стороны договорились о прекращении огня вдоль всей линии соприкосновения. "
    "Наблюдатели сообщили, что ночь прошла спокойно, обстрелов не было."
)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Runs of n consecutive word tokens, counted."""
    tokens = WORD.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def shingle_f1(truth: str, pred: str) -> float:
    """F1 of 4-word shingles shared by truth and prediction (as the corpus scorer counts them)."""
    t, p = shingles(truth), shingles(pred)
    common = sum((t & p).values())
    if not common:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def seed(name: str) -> bytes:
    """Raw bytes of a seed fixture."""
    return (SEED / name).read_bytes()


def page(body_html: str, head: str = "", charset: str = "utf-8") -> str:
    """A minimal HTML page around the given body and head markup."""
    return f'<html><head><meta charset="{charset}">{head}</head><body>{body_html}</body></html>'


# -- seed fixtures ----------------------------------------------------------------------------------------------


def test_seed_article_body_matches_truth_without_sidebar() -> None:
    body = extract_body(seed("article.html"), SEED_URL)
    truth = SEED_BODY.read_text(encoding="utf-8")
    assert shingle_f1(truth, body) >= 0.95
    for phrase in SIDEBAR_PHRASES:
        assert phrase not in body
    assert "violated the ceasefire" in body


def test_seed_article_paragraphs_one_per_line() -> None:
    body = extract_body(seed("article.html"), SEED_URL)
    truth_paragraphs = [p for p in SEED_BODY.read_text(encoding="utf-8").split("\n\n") if p]
    assert body.splitlines()[0] == truth_paragraphs[0]
    assert len(body.splitlines()) == len(truth_paragraphs)
    assert all(line == line.strip() and "  " not in line for line in body.splitlines())


def test_decoy_body_has_no_ceasefire_from_its_sidebar() -> None:
    raw = seed("decoy.html")
    assert b"ceasefire" in raw.lower() and b"truce" in raw.lower()
    body = extract_body(raw, "http://www.panarmenian.net/eng/news/apricot-festival/").lower()
    assert "apricot" in body
    assert "ceasefire" not in body and "truce" not in body


def test_border_edit_adds_exactly_one_sentence() -> None:
    url = "http://www.panarmenian.net/eng/news/border-villages/"
    before = extract_body(seed("border-v1.html"), url).splitlines()
    after = extract_body(seed("border-v2.html"), url).splitlines()
    added = (
        "Later on Thursday the defense ministry said the ceasefire had been violated near the village of Aygepar, "
        "where a house was damaged by gunfire."
    )
    assert [line for line in after if line != added] == before
    assert after.count(added) == 1


def test_seed_article_metadata() -> None:
    info = extract_page(seed("article.html"), SEED_URL + "?utm_source=rss#top")
    assert isinstance(info, PageInfo)
    assert info.title == "Azerbaijan’s recent escalation in Karabakh: What we know so far (video)"
    assert info.canonical_url == SEED_URL
    assert info.published == datetime(2017, 7, 5, 13, 42, tzinfo=UTC)
    assert info.published is not None and info.published.utcoffset() is not None
    assert info.language == "en"


# -- decoding ---------------------------------------------------------------------------------------------------


def test_windows_1251_declared_in_meta() -> None:
    raw = page(f"<article><p>{RUSSIAN}</p></article>", charset="windows-1251").encode("cp1251")
    assert RUSSIAN in decode_html(raw)
    assert "прекращении огня" in extract_body(raw)


def test_windows_1251_undeclared_is_detected() -> None:
    raw = f"<html><body><article><p>{RUSSIAN}</p><p>{RUSSIAN}</p></article></body></html>".encode("cp1251")
    assert RUSSIAN in decode_html(raw)


def test_transport_charset_hint_is_used() -> None:
    raw = f"<html><body><p>{RUSSIAN}</p></body></html>".encode("koi8-r")
    assert RUSSIAN in decode_html(raw, charset="koi8-r")
    assert "прекращении огня" in extract_body(raw, charset="KOI8-R")


def test_utf8_declared_as_legacy_is_still_utf8() -> None:
    raw = page(f"<p>{RUSSIAN}</p>", charset="windows-1251").encode("utf-8")
    assert RUSSIAN in decode_html(raw, charset="windows-1251")


def test_legacy_declared_as_utf8_is_detected() -> None:
    raw = page(f"<p>{RUSSIAN}</p><p>{RUSSIAN}</p>", charset="utf-8").encode("cp1251")
    assert RUSSIAN in decode_html(raw)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_byte_order_mark_wins(encoding: str) -> None:
    raw = page(f"<p>{RUSSIAN}</p>", charset="windows-1252").encode(encoding)
    assert RUSSIAN in decode_html(raw, charset="iso-8859-1")


def test_latin1_label_means_windows_1252() -> None:
    raw = page("<p>“Quoted” – café</p>", charset="iso-8859-1").encode("cp1252")
    assert "“Quoted” – café" in decode_html(raw)


def test_stray_invalid_byte_in_utf8_keeps_utf8() -> None:
    raw = page(f"<p>{RUSSIAN}</p>", charset="windows-1251").encode("utf-8").replace(b"</p>", b"\xff</p>")
    text = decode_html(raw)
    assert RUSSIAN in text
    assert text.count("\ufffd") == 1


def test_str_input_passes_through() -> None:
    assert decode_html("<p>déjà</p>") == "<p>déjà</p>"


@pytest.mark.parametrize(
    ("title", "charset", "encoding", "tail"),
    [
        ("Café déjà vu " * 4, None, "utf-8", b"\xff\xfe\xfd"),  # UTF-8 with stray bytes
        ("“Quoted” – café", "iso-8859-1", "cp1252", b""),  # latin-1 declared, windows-1252 meant
        ("Перемирие нарушено", None, "cp1251", b""),  # undeclared
    ],
    ids=["stray-bytes", "latin-1-label", "undeclared"],
)
def test_a_page_decodes_the_same_as_a_listing_and_as_an_article(
    title: str, charset: str | None, encoding: str, tail: bytes
) -> None:
    meta = f'<meta charset="{charset}">' if charset else ""
    markup = f"<html><head>{meta}<title>{title}</title></head><body><h2><a href='/a'>{title}</a></h2>"
    raw = markup.encode(encoding) + b"<p>" + tail + b"</p></body></html>"
    result = FetchResult(url="http://news.example/", final_url="http://news.example/", status=200, content=raw)
    (listed,) = SOURCE_KINDS["html"].parse(result, source="s", options={"link_selector": "h2 a"})
    assert listed.title == extract_page(raw).title == title.strip()


# -- selector override ------------------------------------------------------------------------------------------


def test_selector_returns_matched_paragraphs() -> None:
    html = page(
        "<div class='story'><p>First <b>bold</b> part.</p><script>var x = 1;</script><p>Second\n   part.</p></div>"
        "<div class='story'><p>Third.</p></div><aside><p>Ceasefire sidebar.</p></aside>"
    )
    assert extract_body(html, selector="div.story") == "First bold part.\nSecond part.\nThird."


def test_selector_nested_matches_are_not_repeated() -> None:
    html = page("<div class='x'><p>Outer.</p><div class='x'><p>Inner.</p></div></div>")
    assert extract_body(html, selector=".x") == "Outer.\nInner."


def test_selector_reads_elements_nested_deeper_than_python_recurses() -> None:
    assert extract_body(page("<main>" + "<div>deep " * 5000 + "</main>"), selector="main").count("deep") == 5000


def test_selector_on_seed_article_excludes_sidebar() -> None:
    body = extract_body(seed("article.html"), SEED_URL, selector="div.article-body")
    truth = SEED_BODY.read_text(encoding="utf-8")
    assert body == "\n".join(p for p in truth.strip().split("\n\n"))


@pytest.mark.parametrize("selector", ["div.no-such-class", "#missing > p"])
def test_selector_without_match_falls_back_to_generic(selector: str) -> None:
    generic = extract_body(seed("article.html"), SEED_URL)
    assert generic
    assert extract_body(seed("article.html"), SEED_URL, selector=selector) == generic


@pytest.mark.parametrize("selector", ["p:::bad[", "]["])
def test_an_invalid_selector_is_an_error_not_a_fallback(selector: str) -> None:
    with pytest.raises(SelectorError, match=f"^invalid CSS selector {re.escape(repr(selector))}: "):
        extract_page(seed("article.html"), SEED_URL, selector)


def test_selector_can_pick_what_generic_drops() -> None:
    info = extract_page(seed("article.html"), SEED_URL, "aside.top-stories li")
    assert "Peskov" in info.body and "ceasefire" not in info.body
    assert info.canonical_url == SEED_URL


# -- metadata ---------------------------------------------------------------------------------------------------


def test_canonical_from_og_url_relative_to_page() -> None:
    html = page("<p>x</p>", head='<meta property="og:url" content="/news/7?utm_medium=social#c">')
    assert extract_page(html, "https://Ex.com/any/where").canonical_url == "https://ex.com/news/7"


def test_link_canonical_preferred_over_og_url() -> None:
    head = '<meta property="og:url" content="https://ex.com/og"><link rel="canonical" href="/canon">'
    assert extract_page(page("<p>x</p>", head=head), "https://ex.com/p").canonical_url == "https://ex.com/canon"


@pytest.mark.parametrize(
    ("head", "url", "expected"),
    [
        ('<link rel="canonical" href="https://ex.com/">', "https://ex.com/news/7", None),
        ('<link rel="canonical" href="/"><meta property="og:url" content="/news/7">', "https://ex.com/news/7",
         "https://ex.com/news/7"),
        ('<link rel="canonical" href="https://ex.com/">', "https://ex.com/", "https://ex.com/"),
        ('<link rel="canonical" href="/news/7">', "", None),
        ('<link rel="canonical" href="javascript:void(0)">', "https://ex.com/news/7", None),
    ],
)
def test_unusable_canonical_is_skipped(head: str, url: str, expected: str | None) -> None:
    assert extract_page(page("<p>x</p>", head=head), url).canonical_url == expected


@pytest.mark.parametrize("url", ["https://ex.com/news/7", "http://[bad", ""])
def test_links_that_are_not_urls_are_passed_over(url: str) -> None:
    head = '<link rel="canonical" href="http://[bad/7"><meta property="og:url" content="https://ex.com/news/7">'
    text = "Observers said the ceasefire held through the night. " * 8
    body = f'<p>{text}</p><a href="http://[x">See the map</a>'
    info = extract_page(page(body, head=head), url)
    assert info.canonical_url == "https://ex.com/news/7" and info.body.startswith("Observers said")


def test_no_canonical_is_none() -> None:
    assert extract_page(page("<p>x</p>"), "https://ex.com/p").canonical_url is None


def test_published_from_json_ld() -> None:
    ld = json.dumps({"@graph": [{"@type": "NewsArticle", "datePublished": "2024-02-29T23:30:00-02:00"}]})
    html = page("<p>x</p>", head=f'<script type="application/ld+json">{ld}</script>')
    assert extract_page(html).published == datetime(2024, 3, 1, 1, 30, tzinfo=UTC)


def test_published_from_time_element_naive_is_utc() -> None:
    html = page('<article><time datetime="2023-10-01T08:15:00">1 Oct</time><p>x</p></article>')
    assert extract_page(html).published == datetime(2023, 10, 1, 8, 15, tzinfo=UTC)


def test_published_guessed_from_url_when_markup_has_none() -> None:
    info = extract_page(page("<p>No date in the markup.</p>"), "https://ex.com/2019/11/18/story.html")
    assert info.published == datetime(2019, 11, 18, tzinfo=UTC)


def test_published_missing_is_none_and_bad_values_skipped() -> None:
    head = '<meta property="article:published_time" content="yesterday">'
    assert extract_page(page("<p>No date here.</p>", head=head)).published is None
    assert parse_datetime("2017-07-05T17:42:00+04:00") == datetime(2017, 7, 5, 13, 42, tzinfo=UTC)
    assert parse_datetime("not a date") is None


def test_language_and_title_fallbacks() -> None:
    html = '<html lang="ru-RU"><head><title>  Перемирие \n нарушено </title></head><body><p>x</p></body></html>'
    info = extract_page(html)
    assert info.language == "ru-RU"
    assert info.title == "Перемирие нарушено"


@pytest.mark.parametrize("junk", ["", b"", "   ", b"\x00\x01\x02", "<<<>>>", "plain text, no tags"])
def test_junk_input_gives_empty_info_not_errors(junk: str | bytes) -> None:
    info = extract_page(junk, "https://ex.com/")
    assert isinstance(info.body, str) and isinstance(info.title, str)
    assert info.published is None and info.canonical_url is None


HTML_BITS = st.sampled_from(
    ["<p>", "</p>", "<div class='a'>", "</div>", "<meta charset='koi8-r'>", "<h1>", "<time datetime='x'>"]
)
MARKUP = st.lists(st.one_of(HTML_BITS, st.text(max_size=30)), max_size=12)


@settings(max_examples=40, deadline=None)
@given(MARKUP, st.one_of(st.none(), st.sampled_from(["p", "div.a", "div > p"])))
def test_any_markup_gives_page_info(bits: list[str], selector: str | None) -> None:
    markup = "".join(bits)
    for html in (markup, markup.encode("utf-8", "surrogatepass")):
        info = extract_page(html, "https://ex.com/a", selector)
        assert isinstance(info.body, str) and "\n\n" not in info.body


# -- boilerplate lines ------------------------------------------------------------------------------------------

NEWS = (
    "Negotiators from both sides met in Geneva on Monday to discuss the terms of a new ceasefire along the "
    "contested border region, officials said.",
    "More than 2,500 civilians have been displaced since the fighting resumed, and Twitter accounts linked to "
    "both armies traded accusations all week.",
    "Observers warned that previous agreements had collapsed within weeks, citing repeated violations reported "
    "by monitors on the ground.",
)
BOILERPLATE_LINES = (
    "Read more: Ten things to know about the border dispute",
    "Get our best stories delivered to your inbox.",
    "Related: ten things to know about the truce",
    "Comments",
    "Most read",
)


def test_teasers_calls_to_action_and_repeated_headline_are_dropped() -> None:
    paragraphs = [NEWS[0], BOILERPLATE_LINES[0], NEWS[1], BOILERPLATE_LINES[1], NEWS[2], *BOILERPLATE_LINES[2:]]
    html = page(
        "<article><h1>Border talks resume in Geneva</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article>",
        head="<title>Border talks resume in Geneva - Example News</title>",
    )
    assert extract_body(html, "https://news.example/geneva").splitlines() == list(NEWS)


def test_real_sentences_with_boilerplate_words_are_kept() -> None:
    traps = [
        "The rebels refused to subscribe to the ceasefire terms.",
        "More details: the truce begins at midnight on Friday.",
        "Also on 12.5 km of the front line, shelling continued overnight.",
        "Follow-up talks were announced on Twitter by the ministry.",
    ]
    paragraphs = [NEWS[0], *traps[:3], NEWS[1], *traps[3:], NEWS[2]]
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article>")
    body = extract_body(html).splitlines()
    assert body == paragraphs


def test_selector_output_is_not_filtered() -> None:
    html = page("<div class='x'>" + "".join(f"<p>{p}</p>" for p in BOILERPLATE_LINES) + "</div>")
    assert extract_body(html, selector="div.x").splitlines() == list(BOILERPLATE_LINES)


def test_author_contact_see_also_and_credit_lines_are_kept() -> None:
    credits = [
        "Contact the author at jane.doe@news.example.",
        "Follow Jane Doe on Twitter at @janedoe.",
        "See also",
        "John Roe contributed to this report.",
        "(Reporting by Jane Doe; editing by John Roe)",
    ]
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in [*NEWS, *credits]) + "</article>")
    assert extract_body(html).splitlines() == [*NEWS, *credits]


def test_only_the_first_h1_is_taken_for_the_headline() -> None:
    html = page(
        "<article><h1>Border talks resume in Geneva</h1><h1>Background</h1>"
        + "".join(f"<p>{p}</p>" for p in NEWS)
        + "</article>",
        head="<title>Border talks resume in Geneva - Example News</title>",
    )
    assert extract_body(html).splitlines() == ["Background", *NEWS]


def test_modal_dialog_text_is_dropped() -> None:
    dialog = (
        "<div class='vjs-modal-dialog' role='dialog' aria-label='Modal Window'>"
        "<p>This is a modal window. This modal can be closed by pressing the Escape key or activating the close "
        "button.</p><p>Beginning of dialog window. Escape will cancel and close the window.</p></div>"
    )
    html = page(f"<article><p>{NEWS[0]}</p><div class='video-js'>{dialog}</div><p>{NEWS[1]}</p><p>{NEWS[2]}</p>")
    assert extract_body(html).splitlines() == list(NEWS)


def test_review_in_widgets_is_read_whole_not_as_its_lede() -> None:
    lede = "Houston has no shortage of great restaurants, and new ones keep opening every month across the city. "
    verdict = (
        "The kitchen serves slow-cooked brisket, smoked sausage and pickled vegetables, and the dining room fills "
        "quickly on weekend nights with families from the neighbourhood. "
    )
    widgets = "".join(f"<div class='product-widget'><h3>Place {i}</h3><p>{verdict * 2}</p></div>" for i in range(10))
    html = page(f"<main><article><section><p>{lede * 6}</p>{widgets}</section></article></main>")
    body = extract_body(html)
    assert len(body) > 600  # the precision-leaning run alone keeps the 605-character lede
    assert body.count(verdict.strip()) == 20 and "Place 9" in body


def test_boxed_paragraph_dropped_by_the_precise_run_comes_back_in_place() -> None:
    paragraphs = [
        f"Monitors counted {n} violations of the ceasefire along the northern line during the night, "
        "officials said on Tuesday in the capital."
        for n in range(8)
    ]
    boxed = "<div style='border-left: 2px solid #c00'><p>{}</p></div>"
    markup = [boxed.format(p) if n in {2, 4} else f"<p>{p}</p>" for n, p in enumerate(paragraphs)]
    markup[5] += boxed.format("<p>Photo: Example News</p><p>Map: Example Maps</p>")  # short and not alone: a box
    html = page(f"<main><article>{''.join(markup)}</article></main>")
    assert extract_body(html).splitlines() == paragraphs


def test_line_alone_between_kept_paragraphs_comes_back_unless_a_teaser() -> None:
    paragraphs = [f"Monitors counted {n} violations of the ceasefire along the line overnight." for n in range(8)]
    boxed = "<div style='border-left: 2px solid #c00'>{}</div>"
    markup = [f"<p>{p}</p>" for p in paragraphs]
    markup[2] += boxed.format("<h2>What the monitors saw</h2>")
    markup[4] += boxed.format("<p>CEASEFIRE TALKS STALL AGAIN IN GENEVA</p>")
    markup[6] += boxed.format("<p>Click here for our live map</p>")
    html = page(f"<main><article>{''.join(markup)}</article></main>")
    assert extract_body(html).splitlines() == [*paragraphs[:3], "What the monitors saw", *paragraphs[3:]]


def test_tiny_precise_result_falls_back_to_fuller_run() -> None:
    key = "f8ff621a0b9b7646cc0d57d37416feabba2bf78ef5dd0bfc5b080f9f97bbe584"
    truth = json.loads((EXTRACTION / "ground-truth.json").read_text(encoding="utf-8"))[key]  # copied from the corpus
    html = gzip.decompress((EXTRACTION / "html" / f"{key}.html.gz").read_bytes())
    body = extract_body(html, truth["url"])
    assert "Home Depot (ticker: HD) reported $2.53 in per-share earnings" in body
    assert shingle_f1(truth["articleBody"], body) >= 0.7


# -- real pages -------------------------------------------------------------------------------------------------


@needs(EXTRACTION_CORPUS)
def test_corpus_sample_mean_f1() -> None:
    truth = json.loads((EXTRACTION_CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[::12][:15]
    scores = []
    for key in keys:
        html = gzip.decompress((EXTRACTION_CORPUS / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8", "replace")
        scores.append(shingle_f1(truth[key]["articleBody"], score_entry(html, truth[key]["url"])))
    assert len(scores) == 15
    assert sum(scores) / len(scores) >= 0.9


# -- closing links boxes and author biographies --------------------------------------------------------------------

OTHER_STORIES = (
    "Aid convoys reach the northern villages after a week",
    "Parliament debates the monitoring mission's mandate",
    "What the new border map means for farmers",
)
DATED = "December 8, 2025"


def links_list(hrefs: list[str], heading: str = "More from Example News") -> str:
    """A heading and a list of links with OTHER_STORIES as their texts, each dated (trafilatura drops a list of
    bare links itself)."""
    items = "".join(
        f"<li><a href='{href}'>{text}</a> - {DATED}</li>" for href, text in zip(hrefs, OTHER_STORIES, strict=True)
    )
    return f"<h3>{heading}</h3><ul>{items}</ul>"


def listed(heading: str) -> list[str]:
    """The lines `links_list` comes out as."""
    return [heading, *(f"- {text} - {DATED}" for text in OTHER_STORIES)]


def test_closing_box_of_links_to_the_site_is_dropped_with_its_heading() -> None:
    hrefs = ["/world/aid-convoys", "https://www.news.example/politics/mandate", "//news.example/farm-map"]
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in NEWS) + links_list(hrefs) + "</article>")
    assert extract_body(html, "https://news.example/geneva").splitlines() == list(NEWS)


def test_links_to_other_sites_and_links_inside_the_article_are_kept() -> None:
    elsewhere = ["https://ngo.example/report", "https://un.example/mandate", "https://maps.example/border"]
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in NEWS) + links_list(elsewhere, "Sources") + "</article>")
    assert extract_body(html, "https://news.example/geneva").splitlines() == [*NEWS, *listed("Sources")]
    mail = ["mailto:aid@news.example", "mailto:politics@news.example", "mailto:farms@news.example"]
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in NEWS) + links_list(mail, "Ask our desks") + "</article>")
    assert extract_body(html, "https://news.example/geneva").splitlines() == [*NEWS, *listed("Ask our desks")]
    inside = ["/world/aid-convoys", "/politics/mandate", "/farm-map"]
    more = [f"Monitors filed report number {n} on the situation along the contested line." for n in range(3)]
    markup = "".join(f"<p>{p}</p>" for p in NEWS) + links_list(inside) + "".join(f"<p>{p}</p>" for p in more)
    body = extract_body(page(f"<article>{markup}</article>"), "https://news.example/geneva")
    assert body.splitlines() == [*NEWS, *listed("More from Example News"), *more]


def test_authors_closing_biography_is_dropped_and_other_closing_lines_kept() -> None:
    bio = "Jane Doe is a correspondent covering the Caucasus for Example News and writes about security."
    other = "John Roe is a retired diplomat who negotiated the ceasefire of 1994 and still advises both sides."
    credit = "John Roe contributed to this report."
    jsonld = '<script type="application/ld+json">{"@type": "NewsArticle", "author": [{"name": "Jane Doe"}]}</script>'
    markup = "".join(f"<p>{p}</p>" for p in [*NEWS, other, credit, bio])
    assert extract_body(page(f"<article>{markup}</article>", head=jsonld)).splitlines() == [*NEWS, other, credit]
    meta = '<meta name="author" content="Jane Doe">'
    assert extract_body(page(f"<article>{markup}</article>", head=meta)).splitlines() == [*NEWS, other, credit]
    assert extract_body(page(f"<article>{markup}</article>")).splitlines() == [*NEWS, other, credit, bio]
    profile = [NEWS[0], bio, *NEWS[1:], other, credit]  # her biography inside the article, not at its end
    markup = "".join(f"<p>{p}</p>" for p in profile)
    assert extract_body(page(f"<article>{markup}</article>", head=meta)).splitlines() == profile
