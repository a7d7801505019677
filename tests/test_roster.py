"""The roster and a notifier the config no longer names: what it is still owed is kept, and said once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from monitor.config import load
from monitor.notify.roster import Roster
from monitor.records import Article, Match
from monitor.store import open_store
from tests.testdata import write_config

MATCH = Match("ceasefire", "ceasefire", ("ceasefire",), "the ceasefire", 1.0)


def test_alerts_owed_to_a_notifier_the_config_dropped_are_kept_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load(write_config(tmp_path, []))  # a console notifier only
    store = open_store(settings)
    try:
        for n in (1, 2):
            store.save_article(Article(url=f"https://o.example/{n}", source="o", title="Ceasefire", body="Held."),
                               fingerprint=n, kind="new", matches=[MATCH], notifiers=["console", "old-webhook"])
        with caplog.at_level(logging.WARNING):
            roster = Roster(store, settings)
            roster.configure(settings)  # a reload: not said again
        said = [r.getMessage() for r in caplog.records if "old-webhook" in r.getMessage()]
        assert said == ["2 alert(s) are owed to notifier old-webhook, which the config no longer names: they are"
                        " kept, and delivered if it is configured again"]
        assert store.owed_by_notifier() == {"console": 2, "old-webhook": 2}  # nothing dropped
        assert roster.owed() == ["console"]  # and nothing new owed to it
    finally:
        store.close()
