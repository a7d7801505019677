"""Config loading: the shipped config is valid; every error names the file, the key path and what was expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor import config as config_mod
from monitor.cli import main
from monitor.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
WATCHLIST = "name: w\nqueries: ['ceasefire']\n"


def write(tmp: Path, body: str, watchlist: str = WATCHLIST) -> Path:
    (tmp / "watchlists").mkdir(exist_ok=True)
    (tmp / "watchlists" / "w.yaml").write_text(watchlist, encoding="utf-8")
    path = tmp / "monitor.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_config_is_valid_and_covers_the_region() -> None:
    settings = config_mod.load(REPO / "config" / "monitor.yaml")
    names = {s.name for s in settings.monitor.sources}
    regional = {"panarmenian", "news-am", "armenpress", "azatutyun", "apa", "oc-media", "jamnews", "un-news"}
    assert regional | {"reliefweb"} <= names
    assert len(settings.enabled_sources()) >= 10
    assert [w.name for w in settings.watchlists] == ["ceasefire"]
    assert settings.db_path == REPO / "config" / ".." / "data" / "monitor.sqlite3"


def test_shipped_sources_speak_every_language_the_watch_list_reads() -> None:
    settings = config_mod.load(REPO / "config" / "monitor.yaml")
    spoken = {s.language for s in settings.enabled_sources()}
    assert {"ar", "az", "de", "en", "es", "fr", "hy", "ru", "tr", "uk"} <= spoken


def test_defaults_apply_and_durations_accept_units(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "schedule: {interval: 2m}\nsources:\n  - {name: a, url: 'http://x.example/f'}\n"
        "  - {name: b, url: 'http://x.example/g', interval: 90s, jitter: 0}\n",
    )
    settings = config_mod.load(path)
    a, b = settings.monitor.sources
    assert settings.source_interval(a) == 120 and settings.source_interval(b) == 90
    assert settings.source_jitter(a) == 30 and settings.source_jitter(b) == 0
    assert a.kind == "feed" and not a.fetch_article and a.enabled


@pytest.mark.parametrize(("value", "expected"), [("", 0), ("workers: auto\n", "auto"), ("workers: 3\n", 3)])
def test_workers_is_a_count_or_auto(tmp_path: Path, value: str, expected: int | str) -> None:
    assert config_mod.load(write(tmp_path, value)).monitor.workers == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("sources:\n  - {name: a, url: 'not a url'}\n", "sources[0].url"),
        ("sources:\n  - {name: a, url: 'http://x/f', kind: gopher}\n", "unknown source kind 'gopher'"),
        ("sources:\n  - {name: a, url: 'http://x/f', intervall: 5}\n", "sources[0].intervall"),
        ("sources:\n  - {name: a, url: 'http://x/f', interval: soon}\n", "sources[0].interval"),
        ("sources:\n  - {name: a, url: 'http://x/f', kind: html}\n", "link_selector"),
        ("sources:\n  - {name: a, url: 'http://x/f'}\n  - {name: a, url: 'http://x/g'}\n", "duplicate sources"),
        ("sources: [\n", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
        ("watchlists: ['nothing/*.yaml']\n", "no file matches"),
        ("workers: many\n", "workers"),
        ("workers: -1\n", "workers"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        config_mod.load(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_watchlist_errors_name_the_watchlist_file(tmp_path: Path) -> None:
    path = write(tmp_path, "sources: []\n", "name: w\nqueries: ['(ceasefire AND']\n")
    with pytest.raises(ConfigError) as info:
        config_mod.load(path)
    assert "w.yaml" in str(info.value) and "queries[0]" in str(info.value)
    path = write(tmp_path, "sources: []\n", "name: w\nqueries: []\n")
    with pytest.raises(ConfigError, match=r"w\.yaml: queries"):
        config_mod.load(path)


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    assert config_mod.config_path() == Path("config/monitor.yaml")
    monkeypatch.setenv("MONITOR_CONFIG", "/etc/m.yaml")
    assert config_mod.config_path() == Path("/etc/m.yaml")
    assert config_mod.config_path("x.yaml") == Path("x.yaml")


def test_check_config_exits_non_zero_with_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "sources:\n  - {name: a, url: 'ftp://x/f'}\n")
    assert main(["check-config", "--config", str(path)]) == 2
    assert "sources[0].url" in capsys.readouterr().err
    good = write(tmp_path, "sources:\n  - {name: a, url: 'http://x.example/f'}\n")
    assert main(["check-config", "--config", str(good)]) == 0
    assert "1 enabled of 1" in capsys.readouterr().out


def test_check_config_fails_when_a_watchlist_example_misbehaves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = WATCHLIST + "examples:\n  match: ['The ceasefire held overnight.', 'A quiet day at the market.']\n"
    path = write(tmp_path, "sources: []\n", watchlist)
    assert main(["check-config", "--config", str(path)]) == 1
    assert "should match but does not" in capsys.readouterr().err


def test_loading_a_config_does_not_import_the_kinds_libraries() -> None:
    code = (
        "import sys, monitor.config as c; print('telegram' in c.NOTIFIER_KINDS, 'feed' in c.SOURCE_KINDS,"
        " 'telegram' in sys.modules, 'feedparser' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.split() == ["True", "True", "False", "False"]  # known as kinds, loaded when first used


def test_an_unknown_notifier_kind_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config_mod.load(write(tmp_path, "notifiers: [{name: n, kind: pigeon}]\n"))
    assert "unknown notifier kind 'pigeon'; expected one of: console, telegram, webhook" in str(info.value)


def test_a_source_kind_checks_its_own_keys(tmp_path: Path) -> None:
    html = "{name: h, url: 'http://x/f', kind: html, link_selector: 'h2 a', same_site: true}"
    settings = config_mod.load(write(tmp_path, f"sources:\n  - {html}\n"))
    assert settings.monitor.sources[0].options == {"link_selector": "h2 a", "same_site": True}
    body = "sources:\n  - {name: f, url: 'http://x/f', same_site: true}\n  - " + html.replace("same_site", "same_sit")
    with pytest.raises(ConfigError) as info:
        config_mod.load(write(tmp_path, body))
    assert "sources[0].same_site: Extra inputs" in str(info.value)  # a feed has no html keys
    assert "sources[1].same_sit: Extra inputs" in str(info.value)


def test_a_source_names_known_watch_lists_only(tmp_path: Path) -> None:
    ok = config_mod.load(write(tmp_path, "sources:\n  - {name: a, url: 'http://x.example/f', watchlists: [w]}\n"))
    assert ok.monitor.sources[0].watchlists == ("w",)
    path = write(tmp_path, "sources:\n  - {name: b, url: 'http://x.example/f'}\n"
                 "  - {name: a, url: 'http://x.example/g', watchlists: [w, nosuch]}\n")
    with pytest.raises(ConfigError) as info:
        config_mod.load(path)
    assert f"{path}: sources[1].watchlists: source a names unknown watch list(s) nosuch (configured: w)" == str(
        info.value
    )
    with pytest.raises(ConfigError, match=r"sources\[0\]\.watchlists"):  # an empty list would match nothing
        config_mod.load(write(tmp_path, "sources:\n  - {name: a, url: 'http://x.example/f', watchlists: []}\n"))


def test_check_config_warns_that_an_html_listing_without_pages_matches_titles_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = "{name: %s, url: 'http://x.example/%s', kind: html, link_selector: 'h2 a'%s}"
    body = "sources:\n" + "".join(
        f"  - {listing % (name, name, extra)}\n"
        for name, extra in (("titles", ""), ("pages", ", fetch_article: true"), ("idle", ", enabled: false"))
    )
    assert main(["check-config", "--config", str(write(tmp_path, body))]) == 0
    err = capsys.readouterr().err
    assert "WARNING: source titles: an html listing without fetch_article: only its link titles are matched" in err
    assert "source pages" not in err and "source idle" not in err


@pytest.mark.parametrize("extra", [0, 1, 5000])
def test_yaml_nested_deeper_than_any_configuration_is_refused_by_depth(tmp_path: Path, extra: int) -> None:
    """libyaml takes 1,000 levels; the configuration reader refuses more than YAML_DEPTH with one clear line."""
    lists = config_mod.YAML_DEPTH - 1 + extra  # inside the top-level mapping, itself one level
    file = tmp_path / "w.yaml"
    file.write_text("name: w\nqueries: [ceasefire]\nx: " + "[" * lists + "]" * lists + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config_mod.load_watchlist(file)
    deep = "not valid YAML: nested too deeply" in str(caught.value) or "maximum nesting depth" in str(caught.value)
    assert deep == (extra > 0), caught.value  # at the limit it loads, and only the unknown key is an error


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        ("x: &a [*a]\n", "an alias refers to the list or mapping it is in"),
        ("x: &a {y: *a}\n", "an alias refers to the list or mapping it is in"),
        # nine levels of ten aliases: a billion values once expanded, loaded by libyaml at once
        ("a0: &a0 [lol]\n" + "".join(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 10)),
         "more than 5,000,000 values once its aliases are expanded"),
    ],
    ids=["list-in-itself", "mapping-in-itself", "billion-laughs"],
)
def test_yaml_whose_aliases_never_end_is_refused_at_once(tmp_path: Path, yaml_text: str, problem: str) -> None:
    """An alias inside itself, or aliases of aliases, get one clear line (they hung the reader, and a reload)."""
    file = tmp_path / "w.yaml"
    file.write_text("name: w\nqueries: [ceasefire]\n" + yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{file}: not valid YAML: {problem}"):
        config_mod.load_watchlist(file)


def test_yaml_aliases_that_share_a_value_still_load(tmp_path: Path) -> None:
    """Anchors, aliases and merge keys are how operators share settings: each is walked once, not refused."""
    file = tmp_path / "w.yaml"
    shared = "x-common: &common [" + ", ".join(["ceasefire"] * 1000) + "]\n"
    file.write_text(shared + "name: w\nqueries: *common\nexclude: *common\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="x-common") as caught:  # only the unknown key is wrong
        config_mod.load_watchlist(file)
    assert "not valid YAML" not in str(caught.value)


def test_config_that_is_not_utf8_gets_one_line_naming_the_file(tmp_path: Path) -> None:
    file = tmp_path / "monitor.yaml"
    head = b"sources: []\n# caf"
    file.write_bytes(head + "é\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=f"{file}: not UTF-8 text \\(byte {len(head)}\\)"):
        config_mod.load(file)


def test_a_watchlist_pattern_that_matches_nothing_is_reported_against_the_config_given(tmp_path: Path) -> None:
    file = tmp_path / "desk.yaml"
    file.write_text("sources: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{file}: watchlists: no file matches 'watchlists/\\*.yaml'"):
        config_mod.load(file)
