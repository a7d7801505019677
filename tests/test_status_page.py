"""The status page (`GET /` on the health server) in a real headless Chromium, against a running service whose
SQLite store was seeded through the store API and filled by its own polls of loopback sources.

Chromium is Debian's package (scripts/install.sh installs it with the test tools); the tests drive it over the
DevTools protocol on a pipe (`--remote-debugging-pipe`), so no WebSocket client and no browser download.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor import config as config_mod
from monitor.demo import StaticSite, seed_routes
from monitor.durations import spoken
from monitor.health import is_loopback
from monitor.records import Article, Match
from monitor.service import Service
from monitor.sourcehealth import Observation, SourceWatch, Thresholds
from monitor.status import CHART_DAYS, CHART_HEIGHT, RECENT_ALERTS
from monitor.store.sqlite import SqliteStore

from .servers import LoopbackServer
from .test_health import started, with_health
from .testdata import seed_source, write_config

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--remote-debugging-pipe",
)
PAGE_TITLE = "ceasefire-monitor status"
HOSTILE_TITLE = "<script>document.title='pwned';alert(1)</script>Ceasefire \"talks\" & <b>more</b>"
HOSTILE_SNIPPET = "</td></tr></table><img src=x onerror=\"document.title='pwned'\"><svg onload=alert(2)>"
HOSTILE_URL = "https://example.org/a?b=\"><img src=x onerror=\"document.title='pwned'\">"
SCRIPT_URL = "javascript:document.title='pwned'"
SECRET_ENV = "STATUS_PAGE_TEST_UNSET_SECRET"  # never set: the webhook cannot start and keeps what it is owed

# What the page shows, read in the browser: every number as the DOM has it, and how the bars were drawn.
READ_PAGE = """(() => {
  const all = sel => [...document.querySelectorAll(sel)];
  const text = el => el.textContent.trim();
  return {
    title: document.title,
    status: text(document.getElementById('status')),
    tables: all('table').map(t => t.id),
    elements: {script: all('script').length, img: all('img').length, iframe: all('iframe').length,
               svg: all('svg').length, b: all('b').length, onload: all('[onload], [onerror]').length},
    sources: Object.fromEntries(all('#sources tbody tr').map(r => [r.dataset.source,
      {health: r.dataset.health, cells: [...r.cells].map(text)}])),
    alerts: all('#alerts tbody tr').map(r => {
      const link = r.cells[4].querySelector('a');
      return {id: Number(r.dataset.alert), watchlist: text(r.cells[1]), source: text(r.cells[2]),
              title: link ? link.textContent : r.cells[4].firstChild.textContent,
              href: link ? link.getAttribute('href') : null, snippet: r.querySelector('.snippet').textContent};
    }),
    links: all('a').map(a => a.getAttribute('href')),
    problems: all('#problems li').map(li => ({source: li.dataset.source, problem: li.dataset.problem, text: text(li)})),
    owed: Object.fromEntries(all('#outbox tr[data-notifier]').map(r => [r.dataset.notifier, Number(text(r.cells[1]))])),
    owed_all: Number(text(document.querySelector('#owed td'))),
    dead_day: Number(text(document.querySelector('#dead-day td'))),
    dead_weeks: Number(text(document.querySelector('#dead-weeks td'))),
    chart: Object.fromEntries(all('#chart tbody tr').map(r => [r.dataset.watchlist, {
      total: Number(text(r.cells[2])),
      bars: [...r.querySelectorAll('svg rect')].map(b => ({day: b.dataset.day, count: Number(b.dataset.count),
        drawn: b.getBoundingClientRect().height}))}])),
  };
})()"""


class Chromium:
    """Headless Chromium over the DevTools protocol on a pipe: commands on its fd 3, answers and events on fd 4,
    each message JSON ended by a NUL byte."""

    def __init__(self, binary: str, profile: Path) -> None:
        command_in, self._commands = os.pipe()
        self._answers, answer_out = os.pipe()
        # the child's ends moved above fd 9, so that its redirections to fds 3 and 4 cannot overwrite one another
        high = [fcntl.fcntl(end, fcntl.F_DUPFD_CLOEXEC, 10) for end in (command_in, answer_out)]
        os.close(command_in)
        os.close(answer_out)
        command_in, answer_out = high
        self._process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{command_in} 4>&{answer_out}', binary, *CHROMIUM_FLAGS,
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(command_in, answer_out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(command_in)
        os.close(answer_out)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        os.close(self._commands)
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._answers)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._answers], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._answers, 1 << 16) if ready else b""
            if not chunk:
                raise AssertionError("chromium did not answer (it exited, or timed out)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(message))

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30) -> dict[str, Any]:
        """Send one command and wait for its answer; events that come first are kept in `events`."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {},
                   **({"sessionId": session} if session else {})}
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") != message["id"]:
                self._event(answer)
            elif "error" in answer:
                raise AssertionError(f"{method}: {answer['error']}")
            else:
                return dict(answer["result"])

    def _event(self, event: dict[str, Any]) -> None:
        """Keep an event; a JavaScript dialog (alert()) is dismissed, so that the page goes on loading."""
        self.events.append(event)
        if event.get("method") == "Page.javascriptDialogOpening":
            self.call("Page.handleJavaScriptDialog", {"accept": False}, session=event["sessionId"])

    def wait_for(self, event: str, session: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event and e.get("sessionId") == session for e in self.events):
            self._event(self._message(deadline))

    def load(self, url: str, script: str) -> Any:
        """Open `url` in a new tab with its Content-Security-Policy bypassed (escaping alone must keep scripts
        out), wait for its load event, and return what `script` evaluates to there."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=session)
        self.call("Page.setBypassCSP", {"enabled": True}, session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        answer = self.call("Runtime.evaluate", {"expression": script, "returnByValue": True}, session=session)
        if "exceptionDetails" in answer:
            raise AssertionError(f"the script failed: {answer['exceptionDetails']}")
        return answer["result"]["value"]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("no chromium: `EXTRAS=dev scripts/install.sh` installs Debian's (as root, or with sudo)")
    browser = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        browser.call("Browser.getVersion")
        yield browser
    finally:
        browser.close()


def seed(db: Path, now: datetime) -> None:
    """Alerts on days of the last two weeks and one before, owed to the webhook, hostile ones among them, and a
    dead letter, through the store API (its clock set to each alert's moment)."""
    clock = [now]
    store = SqliteStore(db, clock=lambda: clock[0])
    stories = [  # (days ago, watch list, title, URL, snippet)
        (CHART_DAYS, "ceasefire", "Too old for the chart", "https://example.org/14", "Before the chart."),
        (CHART_DAYS - 1, "ceasefire", "Two weeks ago", "https://example.org/13", "On the chart's first day."),
        (5, "frontline", "Shelling reported", "https://example.org/5", "A list no longer configured."),
        (3, "ceasefire", "Talks resume", "https://example.org/3a", "Talks resumed."),
        (3, "ceasefire", "Talks stall", "https://example.org/3b", "Talks stalled."),
        (0, "ceasefire", "Truce holds <i>mostly</i>", SCRIPT_URL, "A plain snippet."),
        (0, "ceasefire", HOSTILE_TITLE, HOSTILE_URL, HOSTILE_SNIPPET),
    ]
    try:
        for days, watchlist, title, url, snippet in stories:
            clock[0] = now - timedelta(days=days)
            article = Article(url=url, source="seeded", title=title, body=f"{title}. {snippet}")
            match = Match(watchlist, "ceasefire", ("ceasefire",), snippet)
            store.save_article(article, fingerprint=days, kind="new", matches=[match], notifiers=["hook"])
        clock[0] = now
        store.mark_failed(store.recent_alerts(1)[0].id, "hook", "HTTP 400: refused")
        watch = SourceWatch(Thresholds())  # the admins were told that `broken` has failed for two hours
        watch.observe(Observation("broken", now - timedelta(hours=2), error="HTTP 404 Not Found"))
        watch.review(now, ["broken"], None)
        for key, state in watch.dirty().items():
            store.save_health_state(key, state)
    finally:
        store.close()


@dataclass
class Seen:
    page: dict[str, Any]  # READ_PAGE's answer
    dialogs: int  # JavaScript dialogs the page opened (alert(...))
    store: SqliteStore  # the service's database, read after the page was
    now: datetime
    config: Path


@pytest.fixture(scope="module")
def seen(chromium: Chromium, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seen]:
    """A service on a seeded store, polled once (a story alerts, a source fails, one is gone), and its page."""
    tmp = tmp_path_factory.mktemp("status")
    now = datetime.now(UTC)
    with StaticSite({}) as site, LoopbackServer() as server:
        site.routes = seed_routes(site.base)
        slow = {"interval": 3600, "jitter": 0}
        sources = [
            {**seed_source(site), **slow},
            {"name": "broken", "url": server.route("/missing.xml", b"", status=404), **slow,
             "interval_min": 60, "interval_max": 3600},  # starts at 1h, backs off from 1m after its 404
            {"name": "gone", "url": server.route("/gone.xml", b"", status=410), **slow},
            {"name": "paused", "url": f"{site.base}/eng/rss/", "enabled": False},
        ]
        notifiers: list[dict[str, object]] = [{"name": "out", "kind": "console"},
                     {"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/", "secret_env": SECRET_ENV}]
        path = with_health(write_config(tmp, sources, notifiers))
        settings = config_mod.load(path)
        seed(settings.db_path, now)
        service = Service(settings)
        loop = asyncio.new_event_loop()
        base: list[str] = []

        def run() -> None:
            async def serve() -> None:
                task, url = await started(service)
                base.append(url)
                await task

            loop.run_until_complete(serve())

        thread = threading.Thread(target=run, name="service")
        thread.start()
        store = SqliteStore(settings.db_path)
        try:
            for _ in range(600):
                if base and service.health.polls >= 3 and not store.outbox_depth("out"):
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the service did not poll its sources and deliver to the console")
            dialogs = len(chromium.events)
            page = chromium.load(base[0] + "/", READ_PAGE)
            dialogs = sum(e.get("method") == "Page.javascriptDialogOpening" for e in chromium.events[dialogs:])
            yield Seen(page, dialogs, store, now, path)
        finally:
            store.close()
            loop.call_soon_threadsafe(service.stop)
            thread.join(20)
            loop.close()


def test_the_page_renders_its_tables_and_chart(seen: Seen) -> None:
    page = seen.page
    assert page["title"] == PAGE_TITLE
    assert page["tables"] == ["sources", "alerts", "outbox", "chart"]
    assert page["elements"]["svg"] == len(page["chart"]) == 2  # one chart per watch list
    assert page["status"] == "degraded"  # the webhook cannot start, and a delivery was given up on
    for row in page["chart"].values():
        assert len(row["bars"]) == CHART_DAYS
        for bar in row["bars"]:  # drawn to scale: the busiest day is the full height, an empty one nothing
            assert bar["drawn"] == pytest.approx(CHART_HEIGHT * bar["count"] / 3, abs=0.6)
    assert max(b["drawn"] for b in page["chart"]["ceasefire"]["bars"]) == CHART_HEIGHT


def test_the_numbers_on_the_page_are_the_stores(seen: Seen) -> None:
    page, store = seen.page, seen.store
    states = {s.name: s for s in store.source_states()}
    assert {name: row["health"] for name, row in page["sources"].items()} == {
        "panarmenian": "ok", "broken": "failing", "gone": "disabled", "paused": "off"}
    for name, row in page["sources"].items():
        state = states.get(name)
        status, errors = row["cells"][5], row["cells"][6]
        assert (status, int(errors)) == ((str(state.last_status), state.error_count) if state else ("-", 0))
    assert "HTTP 404" in page["sources"]["broken"]["cells"][8]
    [problem] = page["problems"]  # the source problem the service keeps (told to the admins, not cleared)
    assert (problem["source"], problem["problem"]) == ("broken", "failing")
    assert problem["text"].startswith("source broken has failed for 2h: HTTP 404 Not Found (since ")
    settings = config_mod.load(seen.config)
    for source in settings.monitor.sources:  # the interval each is polled at now: backing off, or the one it starts at
        state = states.get(source.name)
        every = spoken(state.interval if state and state.interval is not None else settings.source_interval(source))
        assert page["sources"][source.name]["cells"][2] == every
    assert page["sources"]["broken"]["cells"][2] != spoken(3600)  # not the interval it started at
    assert page["sources"]["panarmenian"]["cells"][7].endswith("(in 60 min)")

    alerts = store.recent_alerts(RECENT_ALERTS)
    assert len(alerts) == 8  # seven seeded, one from the service's own poll
    assert [a["id"] for a in page["alerts"]] == [a.id for a in alerts]
    assert [(a["watchlist"], a["source"]) for a in page["alerts"]] == [(a.watchlist, a.source) for a in alerts]
    assert [a["snippet"] for a in page["alerts"]] == [a.snippet for a in alerts]

    assert page["owed"] == {"out": store.outbox_depth("out"), "hook": store.outbox_depth("hook")}
    assert page["owed"] == {"out": 0, "hook": 7}  # all eight to the webhook, but the dead letter
    assert page["owed_all"] == store.outbox_depth() == 7
    assert page["dead_day"] == store.dead_letters(seen.now - timedelta(days=1)) == 1
    assert page["dead_weeks"] == store.dead_letters(seen.now - timedelta(days=CHART_DAYS)) == 1

    first = seen.now.date() - timedelta(days=CHART_DAYS - 1)
    counted = store.alerts_per_day(datetime.combine(first, datetime.min.time(), UTC))
    today = seen.now.date()
    assert counted == {  # as seeded, and the service's own alert today; the one of 14 days ago is left out
        ("ceasefire", today): 3, ("ceasefire", today - timedelta(days=3)): 2, ("ceasefire", first): 1,
        ("frontline", today - timedelta(days=5)): 1}
    for watchlist, row in page["chart"].items():
        drawn = {date.fromisoformat(b["day"]): b["count"] for b in row["bars"] if b["count"]}
        assert drawn == {day: n for (name, day), n in counted.items() if name == watchlist}
        assert row["total"] == sum(drawn.values())
    assert page["chart"]["ceasefire"]["total"] == 6 and page["chart"]["frontline"]["total"] == 1


def test_a_hostile_title_snippet_and_url_stay_text(seen: Seen) -> None:
    page = seen.page
    assert page["title"] == PAGE_TITLE and seen.dialogs == 0  # no script ran
    injected = {"script": 0, "img": 0, "iframe": 0, "b": 0, "onload": 0}
    assert {k: page["elements"][k] for k in injected} == injected  # no element came from the store's text
    hostile = next(a for a in page["alerts"] if a["title"] == HOSTILE_TITLE)
    assert hostile["href"] == HOSTILE_URL and hostile["snippet"] == HOSTILE_SNIPPET
    truce = next(a for a in page["alerts"] if a["title"] == "Truce holds <i>mostly</i>")
    assert truce["href"] is None and not any(h.startswith("javascript:") for h in page["links"])
    assert page["tables"] == ["sources", "alerts", "outbox", "chart"]  # the snippet closed no table


def test_the_page_is_served_on_a_non_loopback_bind_only_when_configured(tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.3.2.1") and is_loopback("::1") and is_loopback("localhost")
    assert not any(map(is_loopback, ("0.0.0.0", "::", "", "10.0.0.5", "monitor.example.org")))

    def answers(**health: object) -> tuple[httpx.Response, httpx.Response]:
        path = with_health(write_config(tmp_path, []), **health)
        service = Service(config_mod.load(path))

        async def scenario() -> tuple[httpx.Response, httpx.Response]:
            task, base = await started(service)
            async with httpx.AsyncClient(base_url=base) as client:
                answered = await client.get("/"), await client.get("/healthz")
            service.stop()
            await asyncio.wait_for(task, 10)
            return answered

        return asyncio.run(scenario())

    page, health = answers(host="0.0.0.0")
    assert page.status_code == 404 and "health.status_page: true" in page.text and health.status_code == 200
    page, _ = answers(host="0.0.0.0", status_page=True)
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert f"<title>{PAGE_TITLE}</title>" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    page, _ = answers(host="127.0.0.1", status_page=False)
    assert page.status_code == 404
    page, _ = answers(host="127.0.0.1")
    assert page.status_code == 200

