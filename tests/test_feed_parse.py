"""`monitor parse`: a feed's items and Article records, from a file, a URL on a loopback server, or stdin."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from tests.servers import LoopbackServer
from tests.testdata import FEEDS

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><language>hy</language>
<item><title>Truce &amp;amp; talks</title><link>/news/1?utm_source=rss</link><guid isPermaLink="false">n-1</guid>
  <pubDate>Mon, 06 Jul 2020 12:00:00 +0300</pubDate><description>&lt;p&gt;Both sides &lt;b&gt;agree&lt;/b&gt;&lt;/p&gt;
  </description></item>
<item><title>No page</title><guid>42</guid></item>
</channel></rss>"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["parse", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_gives_every_item_and_the_articles_of_those_with_a_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    code, out, _ = run(capsys, str(path), "--json", "--base", "https://news.example/rss")
    assert code == 0
    document = json.loads(out)
    first, second = document["items"]
    assert first == {
        "title": "Truce & talks",
        "link": "https://news.example/news/1",  # resolved against --base, tracking parameter dropped
        "guid": "n-1",
        "published": "2020-07-06 09:00:00+00:00",
        "updated": "2020-07-06 09:00:00+00:00",
        "text": "Both sides agree",
        "language": "hy",
    }
    assert second["link"] is None and second["guid"] == "42"  # an id that is no URL is no page
    (article,) = document["articles"]
    assert article["url"] == first["link"] and article["guid"] == "news.example:n-1"  # scoped to the feed's host


def test_text_output_says_which_items_are_no_articles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    code, out, _ = run(capsys, str(path), "--base", "https://news.example/rss")
    assert code == 0
    assert "1. Truce & talks\n   link: https://news.example/news/1" in out
    assert "2. No page\n   link: (none: not an article)" in out and out.rstrip().endswith("2 item(s), 1 article(s)")


def test_a_file_read_without_base_says_relative_links_need_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    code, out, err = run(capsys, str(path))
    assert code == 0 and out.rstrip().endswith("2 item(s), 0 article(s)") and "--base" in err


def test_a_url_resolves_links_against_the_address_fetched(
    http_server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = http_server.route("/feeds/main.xml", FEED, content_type="application/rss+xml")
    code, out, _ = run(capsys, url, "--json")
    assert code == 0 and json.loads(out)["items"][0]["link"] == http_server.url("/news/1")


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    raw = (FEEDS / "real/rssparser_heraldsun.rss").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code, out, _ = run(capsys, "-", "--json")
    assert code == 0 and [i["title"] for i in json.loads(out)["items"]] == ["The First Item", "The Second Item"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("malformed/gofeed_unknown_feed.xml", "not a feed"),
        ("malformed/gofeed_empty_feed.xml", "empty document, not a feed"),
        ("no/such/file.xml", "cannot read"),
    ],
)
def test_what_is_no_feed_is_a_clear_error(name: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(FEEDS / name))
    assert code == 2 and out == "" and err.startswith("error: ") and message in err
