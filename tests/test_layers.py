"""Arrows point down: a low-level module, imported alone in a fresh interpreter, loads none of the layers above it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.testdata import write_config

HEAVY = ("monitor.pipeline", "monitor.config", "monitor.query", "monitor.service", "pydantic", "httpx", "telegram")


def loaded_by(module: str, then: str = "") -> set[str]:
    """The modules in sys.modules after importing `module` (and running `then`) in a fresh interpreter."""
    code = f"import sys, {module}\n{then}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def heavy(modules: set[str], names: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_importing_the_health_endpoint_loads_no_pipeline_config_query_pydantic_or_httpx() -> None:
    assert heavy(loaded_by("monitor.health")) == []


@pytest.mark.parametrize("module", ["monitor.metrics", "monitor.records", "monitor.retry", "monitor.logs"])
def test_low_modules_load_nothing_above_them(module: str) -> None:
    assert heavy(loaded_by(module)) == []


def test_the_telegram_notifier_loads_no_bot_module() -> None:
    assert heavy(loaded_by("monitor.notify.telegram"), ("monitor.bot",)) == []


def test_a_process_without_telegram_never_imports_python_telegram_bot() -> None:
    """The service and the command line load python-telegram-bot (0.1 s) only with a telegram notifier."""
    assert heavy(loaded_by("monitor.cli, monitor.service"), ("telegram", "monitor.bot", "monitor.notify.telegram")) == (
        []
    )


PARSERS = ("feedparser", "bs4", "lxml", "monitor.sources.feed")


def test_a_config_of_feeds_loads_no_parser_until_a_feed_is_parsed() -> None:
    """A cycle of 304s never parses: the feed parser stack (0.1 s to import) loads with the first feed parsed."""
    load = "from monitor import config; assert config.load('config/monitor.yaml').enabled_sources()"
    assert heavy(loaded_by("monitor.config", load), PARSERS) == []
    parse = "from monitor.records import FetchResult; from monitor.sources import SOURCE_KINDS; " \
            "SOURCE_KINDS['feed'].parse(FetchResult('u', 'u', 200, b'<rss><channel></channel></rss>'), source='s')"
    assert "monitor.sources.feed" in heavy(loaded_by("monitor.config", f"{load}; {parse}"), PARSERS)


def test_one_pass_loads_none_of_the_long_running_service() -> None:
    """`monitor once` (the command line and its pass) loads no scheduler, health endpoint, metrics or config reload,
    and, quiet, no rich: 0.05 s of start-up that a cycle of 304s would pay on every run."""
    service = ("monitor.service", "monitor.health", "monitor.metrics", "monitor.reload", "monitor.scheduler",
               "prometheus_client", "apscheduler", "rich")
    assert heavy(loaded_by("monitor.cli, monitor.once"), service) == []
    assert heavy(loaded_by("monitor.cli, monitor.service"), service) != []  # the long-running service does


def test_what_start_up_made_is_left_out_of_the_collectors_scans(tmp_path: Path) -> None:
    """`monitor once` (as `monitor run`) freezes the objects start-up made before it polls."""
    config = write_config(tmp_path, [])
    code = ("import gc; from monitor import cli; before = gc.get_freeze_count(); "
            f"cli.main(['once', '--quiet', '--config', {str(config)!r}]); print(before, gc.get_freeze_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "0" and int(out[1]) > 10_000
