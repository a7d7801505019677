"""A source's `headers` (credentials, cookies) go to the source's own origin only (issue 11, item 7).

Two loopback servers on different ports are two origins: `home` serves the source, `away` is another
site its feed links to or redirects to. `away` must never see the source's headers; `home` gets them on
same-origin article pages and redirects. Tests: the fetcher, and a real `monitor once` process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.errors import FetchError
from monitor.fetch import Fetcher, FetchSettings
from tests.servers import LoopbackServer
from tests.testdata import write_config

from .test_clear_errors import monitor

SECRET = {"Authorization": "Bearer s3cret-token", "Cookie": "session=s3cret-cookie", "X-Api-Key": "s3cret-key"}
PAGE = b"<html><body><article><p>Talks on the border went on all day in the capital.</p></article></body></html>"
QUICK = FetchSettings(connect_timeout=2, read_timeout=5, total_timeout=10)


@pytest.fixture
def away() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


def carried(server: LoopbackServer, path: str) -> list[bool]:
    """For each request `server` saw on `path`: whether it carried every one of the source's headers."""
    return [all(seen.headers.get(k.lower()) == v for k, v in SECRET.items()) for seen in server.requests
            if seen.path == path]


def assert_never_saw_the_secrets(server: LoopbackServer) -> None:
    assert server.requests, "the other origin was never asked"
    for seen in server.requests:
        leaked = {k: v for k, v in seen.headers.items() if k in {n.lower() for n in SECRET} or "s3cret" in v}
        assert not leaked, f"{seen.path} got {leaked}"


async def test_the_headers_go_to_the_source_origin_only(http_server: LoopbackServer, away: LoopbackServer) -> None:
    home = http_server
    feed = home.route("/feed", b"<rss/>")
    home.redirect("/moved-here", home.url("/feed"))
    home.redirect("/moved-away", away.url("/feed"))
    away.route("/feed", b"<rss/>")
    away.redirect("/back-home", home.url("/landing"))
    home.route("/landing", PAGE)
    home.route("/story", PAGE)
    away.route("/story", PAGE)
    async with Fetcher(QUICK) as f:
        await f.fetch(feed, headers=SECRET)
        await f.fetch(home.url("/moved-here"), headers=SECRET)  # a same-origin redirect keeps them
        await f.fetch(home.url("/moved-away"), headers=SECRET)  # a cross-origin one drops them
        await f.fetch(home.url("/story"), headers=SECRET, headers_for=feed)  # an article page of the source's site
        await f.fetch(away.url("/story"), headers=SECRET, headers_for=feed)  # an article elsewhere
        await f.fetch(away.url("/back-home"), headers=SECRET, headers_for=feed)  # and what it redirects to
        # the same port by another name is another origin too
        await f.fetch(feed.replace("127.0.0.1", "localhost"), headers=SECRET, headers_for=feed)
    assert carried(home, "/feed") == [True, True, False]
    assert carried(home, "/moved-here") == carried(home, "/moved-away") == carried(home, "/story") == [True]
    assert carried(home, "/landing") == [False]  # once a redirect has left the origin, they are not sent again
    assert_never_saw_the_secrets(away)
    assert {seen.path for seen in away.requests} == {"/feed", "/story", "/back-home"}


async def test_a_refusal_where_the_headers_were_withheld_says_so(
    http_server: LoopbackServer, away: LoopbackServer
) -> None:
    away.route("/feed", b"who are you?", status=401)
    moved = http_server.redirect("/feed", away.url("/feed"), status=301)
    async with Fetcher(QUICK) as f:
        with pytest.raises(FetchError, match="HTTP 401") as caught:
            await f.fetch(moved, headers=SECRET)
    assert f"not sent to {away.base}" in str(caught.value) and "s3cret" not in str(caught.value)
    with pytest.raises(FetchError) as plain:
        async with Fetcher(QUICK) as f:
            await f.fetch(away.url("/feed"))  # no headers withheld: the status alone
    assert str(plain.value) == "HTTP 401 Unauthorized"


def test_monitor_once_sends_the_headers_to_the_source_origin_only(
    http_server: LoopbackServer, away: LoopbackServer, tmp_path: Path
) -> None:
    home = http_server
    links = [home.url("/story/1"), home.url("/story/2"), away.url("/story/3"), home.url("/story/4")]
    items = "".join(f"<item><title>Story {n}</title><link>{link}</link><guid>{link}</guid>"
                    f"<description>Teaser {n}</description></item>" for n, link in enumerate(links, 1))
    home.route("/feed", f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode(),
               content_type="application/rss+xml")
    home.route("/story/1", PAGE, content_type="text/html")
    home.redirect("/story/2", away.url("/story/2"))  # a link of the source's site that leads elsewhere
    away.route("/story/2", PAGE, content_type="text/html")
    away.route("/story/3", PAGE, content_type="text/html")  # a link to another site
    home.redirect("/story/4", home.url("/story/4b"))  # a redirect within the site
    home.route("/story/4b", PAGE, content_type="text/html")
    moved = f'<rss version="2.0"><channel><title>m</title><item><title>M</title><link>{away.url("/story/5")}</link>' \
            "</item></channel></rss>"
    home.redirect("/old-feed", away.url("/new-feed"), status=301)  # a feed that moved to another site
    away.route("/new-feed", moved.encode(), content_type="application/rss+xml")
    away.route("/story/5", PAGE, content_type="text/html")
    common = {"fetch_article": True, "allow_private": True, "headers": SECRET}
    config = write_config(tmp_path, [{"name": "site", "url": home.url("/feed"), **common},
                                     {"name": "moved", "url": home.url("/old-feed"), **common}])
    done = monitor("once", "--config", str(config))
    assert done.returncode == 0, done.stderr
    for path in ("/feed", "/story/1", "/story/2", "/story/4", "/story/4b", "/old-feed"):
        assert carried(home, path) == [True], path
    assert_never_saw_the_secrets(away)
    assert {seen.path for seen in away.requests} == {"/story/2", "/story/3", "/new-feed", "/story/5"}
    assert "s3cret" not in done.stdout + done.stderr
