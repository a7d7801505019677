"""A source that names its watch lists (`watchlists: [...]`) is matched against those only: new items and edits,
in the service process and in a worker pool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from monitor import config as config_mod
from monitor.demo import StaticSite
from monitor.once import run_once
from monitor.query import Matcher
from monitor.records import Article, WatchList
from monitor.workers import Workers

WATCHLISTS = {"truce": "truce", "valley": "valley"}  # name: its one query (threshold 0: any hit alerts)


def feed(outlet: str, text: str) -> bytes:
    item = f"<item><title>News</title><link>https://{outlet}.example/1</link><description>{text}</description></item>"
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title>{item}</channel></rss>'.encode()


def write_config(workdir: Path, site: StaticSite, workers: int) -> Path:
    (workdir / "watchlists").mkdir()
    for name, query in WATCHLISTS.items():
        watchlist = {"name": name, "threshold": 0, "queries": [query]}
        (workdir / "watchlists" / f"{name}.yaml").write_text(yaml.safe_dump(watchlist), encoding="utf-8")
    sources = [
        {"name": "narrow", "url": f"{site.base}/narrow.xml", "watchlists": ["truce"]},
        {"name": "wide", "url": f"{site.base}/wide.xml"},
    ]
    config = {"storage": {"path": "db.sqlite3"}, "workers": workers, "sources": sources,
              "notifiers": [{"name": "console", "kind": "console"}]}
    path = workdir / "monitor.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("workers", [0, 1])
def test_a_source_restricted_to_one_list_never_alerts_on_another(tmp_path: Path, workers: int) -> None:
    routes = {f"/{name}.xml": (feed(name, "A truce holds in the valley."), "application/rss+xml")
              for name in ("narrow", "wide")}
    with StaticSite(routes) as site:
        result = asyncio.run(run_once(config_mod.load(write_config(tmp_path, site, workers))))
    assert not result.failed
    assert sorted((a.source, a.watchlist) for a in result.alerts) == [
        ("narrow", "truce"), ("wide", "truce"), ("wide", "valley")
    ]


@pytest.mark.parametrize("workers", [0, 1])
def test_an_edit_of_a_restricted_source_alerts_only_on_its_lists(tmp_path: Path, workers: int) -> None:
    def routes(narrow: str, wide: str) -> dict[str, tuple[bytes, str]]:
        return {"/narrow.xml": (feed("narrow", narrow), "application/rss+xml"),
                "/wide.xml": (feed("wide", wide), "application/rss+xml")}

    with StaticSite(routes("Markets opened.", "Shops opened.")) as site:
        settings = config_mod.load(write_config(tmp_path, site, workers))
        first = asyncio.run(run_once(settings))
        site.routes = routes("Markets opened. Rain fell in the valley.", "Shops opened. Rain fell in the valley.")
        second = asyncio.run(run_once(settings))
    assert first.alerts == []
    assert [(a.source, a.watchlist, a.kind) for a in second.alerts] == [("wide", "valley", "updated")]


@pytest.mark.parametrize("processes", [0, 1])
async def test_pages_are_analysed_against_the_named_lists_only(processes: int) -> None:
    """The analysis of fetched pages (fetch_article), in-process and in a pool: one matcher per named subset."""
    lists = [WatchList(name, (query,), threshold=0) for name, query in WATCHLISTS.items()]
    workers = Workers(Matcher(lists), processes)
    page = Article(url="https://outlet.example/a", source="outlet", title="News", body="A truce in the valley.")
    try:
        (everything,) = await workers.analyse([page])
        (narrowed,) = await workers.analyse([page], ("valley",))
    finally:
        workers.close()
    assert [m.watchlist for m in everything.matches] == ["truce", "valley"]
    assert [m.watchlist for m in narrowed.matches] == ["valley"]
    assert workers.matchers.of(["valley"]) is workers.matchers.of(("valley",))  # built once, kept
