"""Edits only the page shows: an alerted article's page is read again (`Pipeline.recheck_due`) though its feed entry
did not change, and an edit that adds matching text alerts UPDATED, once per watch list. The seed site on loopback,
the real pipeline and fetcher, on SQLite and PostgreSQL; and the whole service re-checking on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor import config as config_mod
from monitor.config import Settings
from monitor.demo import StaticSite, seed_routes
from monitor.fetch import Fetcher
from monitor.once import build_workers
from monitor.pipeline import Pipeline
from monitor.records import PollReport
from monitor.service import Service
from monitor.store import Store
from monitor.store.sqlite import SqliteStore
from tests.telegram_support import TOKEN, stand_in, telegram_config, until
from tests.testdata import seed_source, write_config

BORDER = "/eng/news/border-villages/"
BORDER_URL = "http://www.panarmenian.net/eng/news/border-villages/"
ADDED = "Later on Thursday the defense ministry said the ceasefire had been violated"
MORE = "<p>On Friday the ministry said the ceasefire had been violated again near Berd.</p>"
BODY_END = b"</div>\n    </article>"
SUBSCRIBER = 7
DAY = 86400.0
EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>PanARMENIAN</title></channel></rss>'


def config(tmp_path: Path, site: StaticSite, notifiers: list[dict[str, object]] | None = None, **source: object
           ) -> Path:
    """The seed source (with `source`'s keys), matched against the shipped ceasefire list and a `tavush` list (the
    border story's province, which its first version matches: it alerts there, so its page is re-checked); a service
    re-checks every 0.3 s."""
    path = write_config(tmp_path, [{**seed_source(site), "jitter": 0, **source}], notifiers,
                        page_recheck={"every": 0.3}, health={"enabled": False}, reload={"watch": False})
    (tmp_path / "watchlists" / "tavush.yaml").write_text("name: tavush\nthreshold: 0\nqueries: [Tavush]\n")
    return path


def edited(site: StaticSite, page: str = "border-v2.html", extra: str = "") -> None:
    """The border story's page as `page` (+ `extra` at the end of its body), its feed entry left as it was."""
    body = seed_routes(site.base, page)[BORDER][0]
    assert BODY_END in body
    site.routes[BORDER] = (body.replace(BODY_END, extra.encode() + BODY_END, 1), "text/html")


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened: Store = SqliteStore(tmp_path / "db.sqlite3")
    else:
        from monitor.store.postgres import PostgresStore

        opened = PostgresStore(request.getfixturevalue("postgres_url"))
    yield opened
    opened.close()


class Run:
    """The real pipeline on `store` for the settings' sources."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings, self.store = settings, store

    async def __call__(self, job: str, now: datetime, every: float = 900, during: float = DAY) -> list[PollReport]:
        async with Fetcher(self.settings.monitor.fetch) as fetcher:
            workers = build_workers(self.settings)
            try:
                pipeline = Pipeline(self.store, fetcher, workers, lambda: ["console"], self.settings.monitor.fetch)
                sources = self.settings.enabled_sources()
                if job == "poll":
                    return [await pipeline.poll(s, self.settings.source_bounds(s), now) for s in sources]
                return await pipeline.recheck_due(sources, every, during, 50, now)
            finally:
                workers.close()


def alerts(reports: list[PollReport]) -> list[tuple[str, str, str]]:
    return sorted((a.kind, a.watchlist, a.url) for r in reports for a in r.alerts)


async def test_a_page_only_edit_alerts_updated_once_per_watch_list_and_only_while_re_checked(
    site: StaticSite, tmp_path: Path, store: Store
) -> None:
    run = Run(config_mod.load(config(tmp_path, site)), store)
    now = datetime.now(UTC)
    first = await run("poll", now)
    assert ("new", "tavush", BORDER_URL) in alerts(first)
    assert ("new", "ceasefire", BORDER_URL) not in alerts(first)
    assert await run("recheck", now + timedelta(minutes=5)) == []  # re-read every 15 min, not sooner

    [border] = [a for r in first for a in r.alerts if a.url == BORDER_URL]
    seen = store.find_article(border.article_id)
    assert seen is not None
    edited(site)  # the page changes; the feed does not
    pages_read = site.hits[BORDER]
    polled = await run("poll", now + timedelta(minutes=10))
    assert alerts(polled) == [] and site.hits[BORDER] == pages_read  # the feed shows nothing: the page is not read

    [checked] = await run("recheck", now + timedelta(minutes=16))
    assert site.hits[BORDER] == pages_read + 1
    assert checked.items == 2 and checked.updated == 1  # the border story and the escalation story (unchanged)
    [alert] = checked.alerts
    assert (alert.kind, alert.watchlist, alert.url) == ("updated", "ceasefire", BORDER_URL)
    assert len(alert.added) == 1 and alert.added[0].startswith(ADDED)
    stored = store.find_article(alert.article_id)
    assert stored is not None and ADDED in stored.text
    assert stored.entry_hash == seen.entry_hash  # still the feed entry's: the next poll sees no change of it

    edited(site, extra=MORE)  # more of the same: the ceasefire list alerted on this story already
    [again] = await run("recheck", now + timedelta(minutes=32))
    assert again.updated == 1 and again.alerts == []
    later = store.find_article(alert.article_id)
    assert later is not None and "violated again near Berd" in later.text
    assert alerts(await run("poll", now + timedelta(minutes=40))) == []  # the feed entry is still the one it was

    edited(site, extra=MORE.replace("Berd", "Ijevan"))
    assert await run("recheck", now + timedelta(hours=25)) == []  # a day after it alerted: no longer re-checked
    assert store.outbox_depth() == 3 * len(["console"])  # tavush and ceasefire new, ceasefire updated


async def test_a_failing_page_is_its_own_error_and_waits_like_the_others(
    site: StaticSite, tmp_path: Path, store: Store
) -> None:
    run = Run(config_mod.load(config(tmp_path, site)), store)
    now = datetime.now(UTC)
    await run("poll", now)
    del site.routes[BORDER]  # 404 now
    [checked] = await run("recheck", now + timedelta(minutes=16))
    assert checked.updated == 0 and checked.alerts == []
    assert [e.split(": ")[0] for e in checked.article_errors] == [site.base + BORDER]
    assert checked.error is None and store.source_state("panarmenian").error_count == 0  # not the source's error
    assert await run("recheck", now + timedelta(minutes=20)) == []  # checked: it waits its 15 minutes


async def test_the_service_re_checks_alerted_pages_and_delivers_the_updated_alert(
    site: StaticSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    with stand_in(0.1) as api:
        telegram = telegram_config(api)
        site.routes["/eng/rss/"] = (EMPTY_FEED, "application/rss+xml")  # nothing to alert on before /subscribe
        service = Service(config_mod.load(config(tmp_path, site, [telegram], interval=0.5)))
        task = asyncio.create_task(service.run())
        try:
            await until(lambda: any(c[0] == "setMyCommands" for c in api.calls))
            api.command(SUBSCRIBER, "/subscribe ceasefire")
            await until(lambda: len(api.messages(SUBSCRIBER)) == 1)
            site.routes = seed_routes(site.base)
            await until(lambda: any("Karabakh" in m.text for m in api.messages(SUBSCRIBER)), timeout=20)
            edited(site)  # its feed entry stays as it was: only a re-check of its page sees the edit
            await until(lambda: any(ADDED in m.text for m in api.messages(SUBSCRIBER)), timeout=20)
        finally:
            service.stop()
            await asyncio.wait_for(task, 15)
    [update] = [m for m in api.messages(SUBSCRIBER) if ADDED in m.text]
    assert "Border villages report a quiet night" in update.text
    metrics = service.metrics.render().decode()
    assert 'monitor_page_rechecks_total{outcome="updated",source="panarmenian"} 1.0' in metrics
