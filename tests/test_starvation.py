"""Hanging sources beside a healthy one, in a real `monitor run` process: the healthy source keeps its schedule
(issue 11, item 9). Every hanging fetch, waiting for a connection slot included, ends within total_timeout."""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path

from .process import MonitorProcess, write_config
from .servers import LoopbackServer
from .testdata import FEEDS

HANGING = 200
INTERVAL, JITTER = 1.0, 0.5
RUN_SECONDS = 15.0
TOTAL_TIMEOUT = 5.0


def test_hanging_sources_do_not_starve_a_healthy_one(tmp_path: Path) -> None:
    with LoopbackServer() as hanging, LoopbackServer() as healthy:
        sources: list[dict[str, object]] = [
            {"name": f"hang{i}", "url": hanging.route(f"/{i}", hang=True), "interval": 5, "jitter": 0}
            for i in range(HANGING)
        ]
        feed = (FEEDS / "real" / "nodefeedparser_rss2sample.xml").read_bytes()
        sources.append({"name": "healthy", "url": healthy.route("/feed.xml", feed), "interval": INTERVAL,
                        "jitter": JITTER})
        timeouts = {"connect_timeout": 2, "read_timeout": 4, "total_timeout": TOTAL_TIMEOUT}
        config, port = write_config(tmp_path, sources, fetch=timeouts)
        with MonitorProcess(config, port) as service:
            began = time.monotonic()
            service.until(lambda: False, RUN_SECONDS)
            assert service.alive(), "the service died"
            elapsed = time.monotonic() - began
        polls = [seen.at for seen in healthy.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert len(polls) >= elapsed / (INTERVAL + JITTER) - 1, f"{len(polls)} polls in {elapsed:.1f} s"
    assert max(gaps) <= INTERVAL + JITTER + 0.5, f"longest gap between polls {max(gaps):.2f} s"
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    failed = conn.execute("SELECT COUNT(*) FROM sources WHERE name LIKE 'hang%' AND error_count > 0").fetchone()[0]
    conn.close()
    assert failed == HANGING  # waiting for a slot counts against total_timeout: every hanging fetch ended
