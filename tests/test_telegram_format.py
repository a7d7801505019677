"""Alert formatting as Telegram HTML, and the rate limiter on a simulated clock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.notify.telegram_format import MAX_MESSAGE, format_alert, format_digest, highlight
from monitor.notify.telegram_options import RateLimits
from monitor.notify.telegram_rate import RateLimiter
from monitor.records import Alert
from tests.botapi import HtmlError, parse_html

WHEN = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)


def alert(**changes: Any) -> Alert:
    base: dict[str, Any] = {
        "id": 1,
        "article_id": "a1",
        "watchlist": "ceasefire",
        "kind": "new",
        "title": "Truce agreed",
        "url": "https://news.example/truce?a=1&b=2",
        "source": "Outlet",
        "published": WHEN,
        "terms": ("ceasefire",),
        "snippet": "The ceasefire starts at noon.",
        "created": WHEN,
    }
    base.update(changes)
    return Alert(**base)


def test_article_text_arrives_as_text_never_as_markup() -> None:
    html = format_alert(alert(title="<b>Peace</b> & war", source="A&B <news>", snippet="x < y & ceasefire > z"))
    visible = parse_html(html)  # the stand-in parses it as Telegram does
    assert visible.splitlines()[0] == "<b>Peace</b> & war"
    assert visible.splitlines()[1].startswith("A&B <news> · ")
    assert "x < y & ceasefire > z" in visible
    assert html.splitlines()[0] == "<b>&lt;b&gt;Peace&lt;/b&gt; &amp; war</b>"


def test_layout_time_in_utc_and_the_operators_zone_terms_highlighted_and_link() -> None:
    html = format_alert(
        alert(terms=("ceasefire", "truce"), snippet="A Truce, then a ceasefire; ceasefires later."),
        ZoneInfo("Asia/Yerevan"),
    )
    lines = html.splitlines()
    assert lines[1] == "Outlet · 2026-11-25 14:05 UTC · 18:05 +04"
    assert lines[2] == "Watch list <i>ceasefire</i> · matched: ceasefire, truce"
    assert lines[4] == "A <b>Truce</b>, then a <b>ceasefire</b>; ceasefires later."
    assert lines[-1] == "https://news.example/truce?a=1&amp;b=2"


def test_the_matched_line_names_a_term_once_whatever_its_case() -> None:
    html = format_alert(alert(terms=("Ceasefire", "ceasefire", "truce", "CEASEFIRE", "Truce")))
    assert html.splitlines()[2] == "Watch list <i>ceasefire</i> · matched: Ceasefire, truce"


def test_angle_brackets_in_text_are_words_not_markup() -> None:
    """A title, snippet or added sentence written as text with <...> in it shows those words, escaped."""
    visible = parse_html(format_alert(alert(title="Talks <in Geneva> resume", snippet="They said <ceasefire holds>.")))
    assert visible.splitlines()[0] == "Talks <in Geneva> resume"
    assert "They said <ceasefire holds>." in visible
    updated = parse_html(format_alert(alert(kind="updated", title="<Live> truce", added=("Both said <yes>.",))))
    assert updated.startswith("🔄 UPDATED: <Live> truce") and "Added: Both said <yes>." in updated
    digest, _ = format_digest([alert(title="<Live> truce"), alert(id=2, title="Talks <in Geneva>")])
    assert "• <Live> truce" in parse_html(digest) and "• Talks <in Geneva>" in parse_html(digest)


def test_updated_alerts_show_the_added_sentences_and_syndication() -> None:
    html = format_alert(
        alert(kind="updated", added=("The ceasefire collapsed.", "Talks resume."), also_in=("Wire", "Daily"))
    )
    visible = parse_html(html)
    assert visible.startswith("🔄 UPDATED: Truce agreed")
    assert "Added: The ceasefire collapsed. Talks resume." in visible
    assert "starts at noon" not in visible
    assert "Also in: Wire, Daily" in visible


@pytest.mark.parametrize("unit", ["ceasefire & peace ", "<<>> ", "word "])
def test_never_over_4096_and_no_tag_or_entity_is_cut(unit: str) -> None:
    html = format_alert(alert(snippet=unit * 3000, terms=("ceasefire",)))
    assert len(html) <= MAX_MESSAGE
    visible = parse_html(html)  # raises on a cut tag or entity
    assert visible.rstrip().splitlines()[-1].startswith("https://")
    assert "…" in visible
    assert len(html) > MAX_MESSAGE - 40  # trimmed, not dropped


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=400),
    snippet=st.text(max_size=6000),
    terms=st.lists(st.text(min_size=1, max_size=12), max_size=4),
)
def test_any_text_makes_a_valid_message(title: str, snippet: str, terms: list[str]) -> None:
    html = format_alert(alert(title=title, snippet=snippet, terms=tuple(terms)))
    assert len(html) <= MAX_MESSAGE
    parse_html(html)


def test_highlight_escapes_between_matches() -> None:
    assert highlight("a<ceasefire>&b", ["ceasefire"]) == "a&lt;<b>ceasefire</b>&gt;&amp;b"
    assert highlight("no terms", []) == "no terms"


def test_the_stand_in_refuses_what_telegram_refuses() -> None:
    for bad in ("a < b", "<b>open", "<script>x</script>", "a & b", "<b><i>x</b></i>"):
        with pytest.raises(HtmlError):
            parse_html(bad)


def test_a_digest_lists_alerts_and_stops_before_the_limit() -> None:
    alerts = [alert(id=i, title=f"Story {i} " + "x" * 250) for i in range(40)]
    text, used = format_digest(alerts)
    assert 1 < used < 40
    assert len(text) <= MAX_MESSAGE
    visible = parse_html(text)
    assert visible.startswith(f"Digest: {used} alerts")
    assert [f"Story {i} " in visible for i in range(used + 1)] == [True] * used + [False]
    single, one = format_digest(alerts[:1])
    assert one == 1 and single == format_alert(alerts[0])


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def sends(limiter: RateLimiter, time: FakeTime, chats: list[str], latency: float = 0.01) -> list[float]:
    """Send to each chat in turn (sequentially), each request taking `latency`; return the start times."""
    starts = []
    for chat in chats:
        async with limiter.slot(chat):
            starts.append(time.now)
            time.now += latency
    return starts


def most_in_window(times: list[float], span: float) -> int:
    return max(sum(1 for u in times if t <= u < t + span) for t in times)


async def test_the_limiter_keeps_30_per_second_overall() -> None:
    time = FakeTime()
    limiter = RateLimiter(RateLimits(per_second=30), time.clock, time.sleep)
    starts = await sends(limiter, time, [str(i) for i in range(100)])
    assert most_in_window(starts, 1.0) == 30


async def test_the_limiter_keeps_one_per_second_per_chat_and_20_per_minute_per_group() -> None:
    time = FakeTime()
    limiter = RateLimiter(RateLimits(), time.clock, time.sleep)
    to_user = await sends(limiter, time, ["5"] * 5)
    assert min(b - a for a, b in itertools.pairwise(to_user)) >= 1.0
    to_group = await sends(limiter, time, ["-100"] * 25)
    assert most_in_window(to_group, 60.0) == 20


async def test_the_limiter_holds_a_chat_after_retry_after() -> None:
    time = FakeTime()
    limiter = RateLimiter(RateLimits(), time.clock, time.sleep)
    limiter.hold("7", 12.0)
    assert await sends(limiter, time, ["7"]) == [12.0]
