"""`monitor sources export` and `import`: OPML 2.0 out and back in gives the same sources; the operator's config
keeps its text (comments too) and only gains lines; a broken list changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor import config as config_mod
from monitor.cli import main
from tests.testdata import write_config

FRESH = "# my desk's config: keep this comment\nstorage: {path: db.sqlite3}  # beside it\n\nsources: []\n"


def fresh_config(workdir: Path, text: str = FRESH) -> Path:
    workdir.mkdir()
    path = write_config(workdir, [])  # its watch list
    path.write_text(text, encoding="utf-8")
    return path


def sources(path: Path) -> list[tuple[str, str, str | None]]:
    return [(s.name, str(s.url), s.language) for s in config_mod.load(path).monitor.sources]


def opml(*outlines: str) -> str:
    return f'<?xml version="1.0"?><opml version="2.0"><head/><body>{"".join(outlines)}</body></opml>'


def test_export_then_import_into_a_fresh_config_gives_the_same_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing: dict[str, object] = {
        "name": "listing", "url": "https://l.example/news", "kind": "html", "link_selector": "h2 a"
    }
    original = write_config(tmp_path, [
        {"name": "wire", "url": "https://wire.example/rss.xml", "language": "en"},
        {"name": "no", "url": "https://nrk.example/feed", "language": "no"},  # YAML would read both as false
        {"name": "Blog_2.0", "url": "https://blog.example/atom?x=1&y=2"},
        {"name": "quiet", "url": "https://quiet.example/rss", "enabled": False},
        listing,
    ])
    out = tmp_path / "sources.opml"
    assert main(["sources", "export", "--config", str(original), "--out", str(out)]) == 0
    assert "left out (not feeds, OPML has no place for their selectors): listing" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8").count("<outline ") == 3

    fresh = fresh_config(tmp_path / "fresh")
    assert main(["sources", "import", str(out), "--config", str(fresh)]) == 0
    printed = capsys.readouterr().out
    assert 'added wire: - {name: wire, url: "https://wire.example/rss.xml", language: en}' in printed
    expected = [s for s in sources(original) if s[0] in ("wire", "no", "Blog_2.0")]
    assert sources(fresh) == expected
    text = fresh.read_text(encoding="utf-8")
    assert text.startswith(FRESH.replace("sources: []", "sources:"))
    assert '  - {name: "no", url: "https://nrk.example/feed", language: "no"}\n' in text

    assert main(["sources", "import", str(out), "--config", str(fresh)]) == 0  # again: all configured already
    assert fresh.read_text(encoding="utf-8") == text
    assert "nothing to add" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (opml('<outline text="a" xmlUrl="https://a.example/rss">'), "not an OPML file: not well-formed XML"),
        ('<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "its root element is <rss>, not <opml>"),
        ("", "not well-formed XML"),
    ],
    ids=["truncated", "a-feed", "empty"],
)
def test_a_malformed_list_is_a_clear_error_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, error: str
) -> None:
    config = fresh_config(tmp_path / "c", FRESH.replace("sources: []", "sources:\n  - {name: a, url: 'https://a.x/f'}"))
    before = config.read_bytes()
    broken = tmp_path / "broken.opml"
    broken.write_text(content, encoding="utf-8")
    assert main(["sources", "import", str(broken), "--config", str(config)]) == 2
    message = capsys.readouterr().err
    assert message.startswith(f"error: {broken}: ") and error in message
    assert config.read_bytes() == before
    assert sorted(p.name for p in config.parent.iterdir()) == ["monitor.yaml", "watchlists"]


def test_names_come_from_titles_unique_and_configured_urls_are_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = FRESH.replace("sources: []", "sources:\n  - {name: bbc, url: 'https://feeds.bbc.example'}")
    config = fresh_config(tmp_path / "c", text)
    subscriptions = tmp_path / "reader.opml"
    subscriptions.write_text(opml(
        '<outline text="News"><outline text="BBC News: World" xmlUrl="https://feeds.bbc.example/"/>',
        '<outline text="Agence France-Presse (EN)" xmlUrl="https://afp.example/en.xml" language="en-US"/>',
        '<outline title="Agence France-Presse (EN)" xmlUrl="https://afp.example/en2.xml"/>',
        '<outline text="bbc" xmlUrl="https://bbc.example/other.xml"/></outline>',
        '<outline text="Gopher" xmlUrl="gopher://old.example/"/>',
    ), encoding="utf-8")

    assert main(["sources", "import", str(subscriptions), "--dry-run", "--config", str(config)]) == 0
    assert config.read_text(encoding="utf-8") == text
    assert "dry run: 3 source(s) to add, 2 skipped; nothing written" in capsys.readouterr().out

    assert main(["sources", "import", str(subscriptions), "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert "BBC News: World: https://feeds.bbc.example/ is configured already" in err
    assert "'gopher://old.example/' is not an http(s) URL" in err
    assert sources(config)[1:] == [
        ("agence-france-presse-en", "https://afp.example/en.xml", "en"),
        ("agence-france-presse-en-2", "https://afp.example/en2.xml", None),
        ("bbc-2", "https://bbc.example/other.xml", None),
    ]
    assert config.read_text(encoding="utf-8").startswith(text)


def test_a_config_whose_sources_are_not_last_is_left_alone_and_the_lines_are_written_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = FRESH.replace("sources: []", "sources:\n  - {name: a, url: 'https://a.x/f'}\nworkers: 0  # after sources")
    config = fresh_config(tmp_path / "c", text)
    subscriptions = tmp_path / "reader.opml"
    subscriptions.write_text(opml('<outline text="Wire" xmlUrl="https://wire.example/rss"/>'), encoding="utf-8")
    assert main(["sources", "import", str(subscriptions), "--config", str(config)]) == 0
    assert config.read_text(encoding="utf-8") == text
    aside = config.with_name("monitor.imported-sources.yaml")
    assert f"paste the 1 line(s) of {aside} under `sources:`" in capsys.readouterr().out
    assert aside.read_text(encoding="utf-8").splitlines()[1] == '  - {name: Wire, url: "https://wire.example/rss"}'


def test_export_carries_fetch_article_intervals_and_watch_lists_and_import_reads_them_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = write_config(tmp_path, [
        {"name": "pan", "url": "https://pan.example/rss", "fetch_article": True, "article_selector": "div.body > p",
         "interval": "5m", "interval_min": "1m", "interval_max": "2h", "watchlists": ["ceasefire"],
         "headers": {"Authorization": "Bearer s3cret"}},
        {"name": "plain", "url": "https://plain.example/rss"},
    ])
    out = tmp_path / "sources.opml"
    assert main(["sources", "export", "--config", str(original), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert 'xmlns:monitor="urn:ceasefire-monitor:source"' in text and "s3cret" not in text
    for attribute in ('monitor:fetchArticle="true"', 'monitor:articleSelector="div.body &gt; p"',
                      'monitor:interval="5m"', 'monitor:intervalMin="1m"', 'monitor:intervalMax="2h"',
                      'monitor:watchlists="ceasefire"'):
        assert attribute in text

    fresh = fresh_config(tmp_path / "fresh")
    assert main(["sources", "import", str(out), "--config", str(fresh)]) == 0
    assert ('added pan: - {name: pan, url: "https://pan.example/rss", fetch_article: true, article_selector:'
            ' div.body > p, interval: 5m, interval_min: 1m, interval_max: 2h, watchlists: [ceasefire]}'
            ) in capsys.readouterr().out
    pan, plain = config_mod.load(fresh).monitor.sources
    assert (pan.fetch_article, pan.article_selector, pan.interval, pan.interval_min, pan.interval_max) == (
        True, "div.body > p", 300.0, 60.0, 7200.0)
    assert pan.watchlists == ("ceasefire",) and pan.headers == {}
    assert (plain.fetch_article, plain.interval, plain.watchlists) == (False, None, None)


def test_an_outline_with_a_bad_carried_value_or_an_unknown_watch_list_is_skipped_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = fresh_config(tmp_path / "fresh")
    listed = tmp_path / "list.opml"
    ns = 'xmlns:m="urn:ceasefire-monitor:source"'
    listed.write_text(opml(
        f'<outline {ns} text="Soon" xmlUrl="https://soon.example/rss" m:interval="soon"/>',
        f'<outline {ns} text="Sport" xmlUrl="https://sport.example/rss" m:watchlists="ceasefire football"/>',
        f'<outline {ns} text="Good" xmlUrl="https://good.example/rss" m:fetchArticle="true"/>',
    ), encoding="utf-8")
    assert main(["sources", "import", str(listed), "--config", str(fresh)]) == 0
    err = capsys.readouterr().err
    assert "skipped Soon: interval: Value error, expected a duration" in err
    assert "skipped Sport: names watch list(s) not configured here: football" in err
    [good] = config_mod.load(fresh).monitor.sources
    assert (good.name, good.fetch_article) == ("Good", True)


def test_a_second_import_beside_the_config_keeps_the_first_ones_lines_and_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = FRESH.replace("sources: []", "sources:\n  - {name: a, url: 'https://a.x/f'}\nworkers: 0  # after sources")
    config = fresh_config(tmp_path / "c", text)
    first, second = tmp_path / "one.opml", tmp_path / "two.opml"
    first.write_text(opml('<outline text="Wire" xmlUrl="https://wire.example/rss"/>'), encoding="utf-8")
    second.write_text(opml('<outline text="Wire" xmlUrl="https://wire.example/other"/>'
                           '<outline text="Again" xmlUrl="https://wire.example/rss"/>'), encoding="utf-8")
    assert main(["sources", "import", str(first), "--config", str(config)]) == 0
    assert main(["sources", "import", str(second), "--config", str(config)]) == 0
    captured = capsys.readouterr()
    assert "paste the 1 line(s) of" in captured.out and "after the 1 of earlier imports" in captured.out
    assert "https://wire.example/rss is configured already" in captured.err  # or waiting to be pasted in
    aside = config.with_name("monitor.imported-sources.yaml")
    pasted = yaml.safe_load(aside.read_text(encoding="utf-8"))
    assert [(s["name"], s["url"]) for s in pasted] == [
        ("Wire", "https://wire.example/rss"), ("Wire-2", "https://wire.example/other")]
    assert config.read_text(encoding="utf-8") == text
