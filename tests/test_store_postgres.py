"""PostgresStore on the session's throwaway PostgreSQL server: test_store.py's tests that go through the interface
alone, run again here on PostgreSQL, and what is PostgreSQL's own (migrations, another connection and process, the
password kept out of errors, snapshots, retention)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from monitor import config as config_mod
from monitor.cli import main
from monitor.demo import StaticSite
from monitor.errors import StorageError
from monitor.fingerprint import fingerprint
from monitor.once import run_once
from monitor.records import SourceState
from monitor.store import Candidate, Revision, open_store
from monitor.store.postgres import CORE_MIGRATIONS, PostgresStore, describe, migration_state, schema_version
from monitor.store.postgres_telegram import TELEGRAM_MIGRATIONS
from monitor.store.sqlite import SqliteStore
from tests import postgres, process
from tests.test_config import write
from tests.test_store import (  # noqa: F401  (collected here again, on the `store` below)
    T0,
    Clock,
    article,
    match,
    save_new,
    test_best_scoring_match_of_a_watch_list_makes_its_one_alert,
    test_copy_of_a_copy_credits_the_original,
    test_copy_seen_before_original_alerted_is_listed_in_later_alert,
    test_datetimes_come_back_utc_aware,
    test_delivered_and_failed_are_no_longer_owed,
    test_edit_moves_article_to_its_new_fingerprint,
    test_guid_finds_article_across_sources_and_urls,
    test_near_duplicate_found_for_light_edit_not_for_other_story_nor_outside_window,
    test_near_duplicate_returns_the_closest,
    test_no_match_no_alert_but_article_is_stored,
    test_oldest_owed_and_depth,
    test_only_articles_that_alerted_are_near_duplicate_originals,
    test_owed_is_ordered_limited_and_respects_next_attempt,
    test_recent_alerts_and_stats,
    test_recent_entry_hashes_are_the_sources_newest_articles,
    test_syndicated_copy_is_listed_in_original_alerts_and_makes_none,
    test_unknown_source_has_fresh_state,
)
from tests.testdata import seed_source, write_config

pytestmark = pytest.mark.postgres


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(postgres_url: str, clock: Clock) -> Iterator[PostgresStore]:
    s = PostgresStore(postgres_url, clock=clock)
    yield s
    s.close()


def count(url: str, sql: str) -> int:
    """A count read on a connection of its own (what another process sees)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return int(row[0])


# --- opening and migrations


def test_a_new_database_is_migrated_once_by_processes_that_open_it_at_once(postgres_cluster: postgres.Cluster) -> None:
    with postgres_cluster.database(migrated=False) as url:
        assert migration_state(url).startswith("reachable, not migrated (core v0, telegram v0 of core v")
        code = f"from monitor.store.postgres import PostgresStore; PostgresStore({url!r}).close()"
        openers = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
        assert [p.wait(60) for p in openers] == [0, 0, 0]
        assert count(url, "SELECT COUNT(*) FROM schema_migrations") == len(CORE_MIGRATIONS) + len(TELEGRAM_MIGRATIONS)
        with psycopg.connect(url) as conn:
            assert schema_version(conn, "core") == len(CORE_MIGRATIONS)
            assert schema_version(conn, "telegram") == len(TELEGRAM_MIGRATIONS)
        assert migration_state(url) == "reachable, migrated (core v3, telegram v1)"


def test_state_and_the_outbox_survive_reopening(postgres_url: str, store: PostgresStore, clock: Clock) -> None:
    state = SourceState("azatutyun", etag='W/"abc"', last_fetch=T0, last_status=200, next_due=T0 + timedelta(minutes=5))
    store.save_source_state(state)
    ids = [a.id for n in range(3) for a in save_new(store, article(f"https://news.example/{n}"), match())]
    store.mark_delivered(ids[0], "console")
    store.mark_retry(ids[1], "console", "timeout", T0 + timedelta(minutes=5))
    store.close()
    reopened = PostgresStore(postgres_url, clock=clock)
    try:
        assert reopened.source_states() == [state]
        assert [a.id for a in reopened.owed("console", T0 + timedelta(minutes=5))] == ids[1:]
        assert reopened.attempts(ids[1], "console") == 1 and reopened.strikes(ids[1], "console") == 1
        assert save_new(reopened, article("https://news.example/0"), match()) == []
    finally:
        reopened.close()


def test_a_wrong_password_or_no_server_is_a_storage_error_without_the_password(
    postgres_cluster: postgres.Cluster,
) -> None:
    wrong = postgres_cluster.dsn(password="not-the-" + postgres.PASSWORD)
    with pytest.raises(StorageError) as refused:
        PostgresStore(wrong)
    assert "password authentication failed" in str(refused.value) and "not-the-" not in str(refused.value)
    assert describe(wrong) == f"postgresql://{postgres.SUPERUSER}@127.0.0.1:{postgres_cluster.port}/postgres"
    closed = postgres_cluster.dsn().replace(f":{postgres_cluster.port}/", ":1/")
    with pytest.raises(StorageError) as unreachable:
        migration_state(closed)
    assert "cannot reach the database postgresql://monitor@127.0.0.1:1/postgres" in str(unreachable.value)
    assert postgres.PASSWORD not in str(unreachable.value)
    with pytest.raises(StorageError, match="does not parse") as unparsed:
        PostgresStore(postgres_cluster.dsn() + "?no_such_option=1")
    assert postgres.PASSWORD not in str(unparsed.value)


def test_open_store_selects_postgres_by_storage_url_or_the_environment(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    configured = open_store(config_mod.load(write(tmp_path, f"storage: {{url: '{postgres_url}'}}\n")))
    try:
        assert isinstance(configured, PostgresStore)
        configured.save_source_state(SourceState("shared"))
    finally:
        configured.close()
    default = config_mod.load(write(tmp_path, "storage: {path: monitor.db}\n"))
    sqlite = open_store(default)
    assert isinstance(sqlite, SqliteStore) and sqlite.source_states() == []
    sqlite.close()
    monkeypatch.setenv("MONITOR_DATABASE_URL", postgres_url)
    environment = open_store(default)  # the environment wins over storage.path
    try:
        assert isinstance(environment, PostgresStore) and environment.source_states() == [SourceState("shared")]
    finally:
        environment.close()


def test_check_config_says_which_store_and_whether_its_database_is_reachable_and_migrated(
    postgres_cluster: postgres.Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)

    def check(storage: str) -> tuple[int, str, str]:
        code = main(["check-config", "--config", str(write(tmp_path, f"storage: {storage}\nsources: []\n"))])
        out, err = capsys.readouterr()
        assert postgres.PASSWORD not in out + err
        return code, out, err

    code, out, _ = check("{path: monitor.db}")
    assert code == 0 and f"storage: SQLite at {tmp_path / 'monitor.db'}" in out
    with postgres_cluster.database() as url:
        code, out, _ = check(f"{{url: '{url}'}}")
        assert code == 0
        assert f"storage: PostgreSQL at {describe(url)}: reachable, migrated (core v3, telegram v1)\n" in out
    with postgres_cluster.database(migrated=False) as url:
        code, out, _ = check(f"{{url: '{url}'}}")
        assert code == 0
        assert f"storage: PostgreSQL at {describe(url)}: reachable, not migrated (core v0, telegram v0 of" in out
    code, out, err = check(f"{{url: '{postgres_cluster.dsn(password='wrong')}'}}")
    assert code == 1 and "storage:" not in out
    assert "STORAGE FAILS: cannot reach the database postgresql://monitor@127.0.0.1" in err and "password" in err


def test_monitor_once_on_postgres_alerts_once_and_a_dry_run_records_nothing(
    postgres_url: str, site: StaticSite, tmp_path: Path
) -> None:
    path = write_config(tmp_path, [seed_source(site)], storage={"url": postgres_url, "path": "db.sqlite3"})
    dry = asyncio.run(run_once(config_mod.load(path), dry_run=True))
    assert len(dry.alerts) == 1 and count(postgres_url, "SELECT COUNT(*) FROM articles") == 0
    first = asyncio.run(run_once(config_mod.load(path)))
    again = asyncio.run(run_once(config_mod.load(path)))
    assert len(first.alerts) == 1 and again.alerts == []
    assert count(postgres_url, "SELECT COUNT(*) FROM alerts") == 1
    assert count(postgres_url, "SELECT COUNT(*) FROM outbox WHERE status = 'delivered'") == 1  # the console's
    assert count(postgres_url, "SELECT COUNT(*) FROM sources WHERE last_success IS NOT NULL") == 1
    assert not (tmp_path / "db.sqlite3").exists()


def test_monitor_run_on_postgres_polls_delivers_reports_health_and_a_restart_alerts_nothing_again(
    postgres_url: str, site: StaticSite, tmp_path: Path
) -> None:
    storage = {"url": postgres_url, "path": "db.sqlite3"}
    path, port = process.write_config(tmp_path, [{**seed_source(site), "interval": 1, "jitter": 0}], storage=storage)
    for run in range(2):
        with process.MonitorProcess(path, port) as service:
            assert service.until(lambda: service.health().json()["polls"] >= 2, 30)
            health = service.health()
            assert health.status_code == 200 and health.json()["outbox_depth"] == 0
        assert service.exit_code == 0
        assert sum("[ALERT]" in line for line in service.stdout) == (1 if run == 0 else 0)
    assert count(postgres_url, "SELECT COUNT(*) FROM outbox WHERE status = 'delivered'") == 1
    assert postgres.PASSWORD not in json.dumps(service.events)


# --- transactions and connections


def test_a_transaction_is_seen_by_others_only_once_committed(postgres_url: str, store: PostgresStore) -> None:
    with store.transaction():
        save_new(store, article("https://n.example/1"), match())
        save_new(store, article("https://n.example/2"), match())
        assert count(postgres_url, "SELECT COUNT(*) FROM articles") == 0
        assert store.find_article(article("https://n.example/1").id) is not None  # this thread sees its own
        elsewhere: list[object] = []
        thread = threading.Thread(target=lambda: elsewhere.append(store.find_article(article("https://n.example/1").id)))
        thread.start()
        thread.join()
        assert elsewhere == [None]  # another thread has a connection of its own
    assert count(postgres_url, "SELECT COUNT(*) FROM alerts") == 2
    with pytest.raises(RuntimeError), store.transaction():
        save_new(store, article("https://n.example/3"), match())
        raise RuntimeError("crash mid-cycle")
    assert count(postgres_url, "SELECT COUNT(*) FROM articles") == 2 and store.outbox_depth() == 4


def test_two_processes_recording_the_same_story_at_once_alert_once(postgres_url: str, clock: Clock) -> None:
    """Each writer has its own connection (as two workers would): the second waits for the first's transaction on
    the article's lock, then finds it stored, however their statements interleave."""
    stores = [PostgresStore(postgres_url, clock=clock) for _ in range(2)]
    story = article("https://n.example/same", guid="urn:same")
    candidate = Candidate(story, "e", fingerprint(story.text), (match(),))
    start = threading.Barrier(2)
    done: list[str] = []

    def writer(store: PostgresStore, feed: str) -> None:
        start.wait()
        [recorded] = store.record([candidate], revise=lambda c, s: Revision((), ()), notifiers=("console",),
                                  listed=(), state=SourceState(feed), seen_at=T0)
        done.append(recorded.kind)

    try:
        for _ in range(5):
            threads = [threading.Thread(target=writer, args=(s, f"feed-{n}")) for n, s in enumerate(stores)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert sorted(done) == ["new"] + ["unchanged"] * 9
        assert count(postgres_url, "SELECT COUNT(*) FROM alerts") == 1 and stores[0].outbox_depth() == 1
    finally:
        for s in stores:
            s.close()


def test_the_store_carries_on_after_the_server_restarts(
    postgres_cluster: postgres.Cluster, postgres_url: str, store: PostgresStore
) -> None:
    save_new(store, article("https://n.example/1"), match())
    with store.transaction():  # a pooled connection, idle from now on
        store.save_source_state(SourceState("before"))
    postgres_cluster.restart()
    assert [s.name for s in store.source_states()] == ["before"]  # no call fails: the dead connection is replaced
    assert len(save_new(store, article("https://n.example/2"), match())) == 1 and store.outbox_depth() == 4


def test_a_snapshot_sees_the_database_and_records_nothing(postgres_url: str, store: PostgresStore) -> None:
    save_new(store, article("https://n.example/1"), match())
    dry = store.snapshot()
    assert dry.find_article(article("https://n.example/1").id) is not None
    assert len(save_new(dry, article("https://n.example/2"), match())) == 1
    with pytest.raises(RuntimeError), dry.transaction():
        dry.save_source_state(SourceState("rolled back"))
        raise RuntimeError
    dry.save_source_state(SourceState("s", error_count=9))
    assert [s.name for s in dry.source_states()] == ["s"]
    dry.mark_delivered(1, "console")
    dry.close()
    assert count(postgres_url, "SELECT COUNT(*) FROM alerts") == 1
    assert count(postgres_url, "SELECT COUNT(*) FROM sources") == 0
    assert [x.id for x in store.owed("console", T0)] == [1]


# --- retention


def test_prune_keeps_articles_whose_alerts_are_owed_and_old_versions_go(store: PostgresStore, clock: Clock) -> None:
    owed = save_new(store, article("https://n.example/owed"), match())[0]
    delivered = save_new(store, article("https://n.example/delivered"), match())[0]
    for notifier in ("console", "telegram"):
        store.mark_delivered(delivered.id, notifier)
    edited = article("https://n.example/owed", body="Edited: the ceasefire was violated again.")
    clock.now = T0 + timedelta(days=1)
    store.save_article(edited, fingerprint=1, kind="updated", matches=(), notifiers=("console",))
    clock.now = T0 + timedelta(days=100)
    save_new(store, article("https://n.example/fresh"))  # the source's latest listing: newer than both
    report = store.prune(T0 + timedelta(days=50))
    assert report.removed["articles"] == 1 and report.removed["alerts"] == 1 and report.removed["outbox"] == 2
    assert report.removed["article_versions"] == 2  # the pruned article's one, the kept one's first
    assert store.find_article(article("https://n.example/delivered").id) is None
    assert store.alert(owed.id) == owed and store.find_article(edited.id) is not None


def test_prune_keeps_an_article_whose_alert_a_telegram_chat_is_still_owed(store: PostgresStore, clock: Clock) -> None:
    """Retention finds the tables that point at alerts (here tg_deliveries) through the catalog, as on SQLite."""
    alert = save_new(store, article("https://n.example/1"), match())[0]
    for notifier in ("console", "telegram"):
        store.mark_delivered(alert.id, notifier)
    store.register_chat("42", "private", "reader", T0)
    store.subscribe("42", "ceasefire", T0)
    assert store.fan_out("telegram", alert, T0, lambda query: True) == 1
    clock.now = T0 + timedelta(days=100)
    save_new(store, article("https://n.example/fresh"))
    assert store.prune(T0 + timedelta(days=50)).removed["articles"] == 0
    [delivery] = store.due_deliveries("telegram", clock.now)
    store.mark_sent([delivery.id], clock.now)
    report = store.prune(T0 + timedelta(days=50))
    assert (report.removed["articles"], report.removed["tg_deliveries"], report.removed["outbox"]) == (1, 1, 2)
