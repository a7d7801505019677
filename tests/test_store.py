"""SqliteStore on real SQLite files: migrations, source state, articles, dedupe, the outbox, restarts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.errors import StorageError
from monitor.fingerprint import fingerprint
from monitor.records import Alert, Article, Match, SourceState
from monitor.store import Candidate, Revision, Store, StoredArticle
from monitor.store.migrations import apply_migrations, schema_version
from monitor.store.sqlite import CORE_MIGRATIONS, SqliteStore
from tests.testdata import SEED, SEED_BODY

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOTIFIERS = ("console", "telegram")


class Clock:
    """A settable "now" for the store."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "monitor.db"


@pytest.fixture
def store(db_path: Path, clock: Clock) -> Iterator[SqliteStore]:
    s = SqliteStore(db_path, clock=clock)
    yield s
    s.close()


def article(
    url: str = "https://news.example/a/1",
    *,
    source: str = "outlet-a",
    title: str = "Ceasefire violated",
    body: str = "Azerbaijan violated the ceasefire on the contact line.",
    guid: str | None = None,
) -> Article:
    return Article(url=url, source=source, title=title, body=body, guid=guid, published=T0 - timedelta(hours=1))


def match(watchlist: str = "ceasefire", score: float = 1.0, snippet: str = "violated the ceasefire") -> Match:
    return Match(
        watchlist=watchlist,
        query="ceasefire NEAR/3 violat*",
        terms=("violated", "ceasefire"),
        snippet=snippet,
        score=score,
    )


def save_new(
    store: Store, a: Article, *matches: Match, duplicate_of: str | None = None, entry_hash: str = ""
) -> list[Alert]:
    """Save an article as the pipeline does for one never seen before."""
    return store.save_article(
        a,
        fingerprint=fingerprint(a.text),
        kind="new",
        matches=matches,
        notifiers=NOTIFIERS,
        duplicate_of=duplicate_of,
        entry_hash=entry_hash,
    )


def _no_revision(candidate: Candidate, stored: StoredArticle) -> Revision:
    raise AssertionError("an unchanged article is no edit")


def count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(sql).fetchone()[0])


# --- opening and migrations


def test_open_creates_parent_dirs_wal_and_records_version(db_path: Path, store: SqliteStore) -> None:
    assert db_path.exists()
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert schema_version(store.conn, "core") == len(CORE_MIGRATIONS)


def test_reopen_does_not_reapply_migrations(db_path: Path, clock: Clock) -> None:
    SqliteStore(db_path, clock=clock).close()
    SqliteStore(db_path, clock=clock).close()
    assert count(db_path, "SELECT COUNT(*) FROM schema_migrations WHERE component = 'core'") == len(CORE_MIGRATIONS)


def test_other_components_migrate_independently_and_roll_back_on_error(store: SqliteStore) -> None:
    conn = store.connection
    steps = ["CREATE TABLE ex_items (chat_id INTEGER PRIMARY KEY, lang TEXT DEFAULT 'en;ru')"]
    assert apply_migrations(conn, "example", steps) == 1
    steps.append("ALTER TABLE ex_items ADD COLUMN muted INTEGER; CREATE TABLE ex_broken (x REFERENCES")
    with pytest.raises(sqlite3.Error):
        apply_migrations(conn, "example", steps)
    assert schema_version(conn, "example") == 1
    columns = [r[1] for r in conn.execute("PRAGMA table_info(ex_items)")]
    assert columns == ["chat_id", "lang"]  # the failed migration's first statement was rolled back too
    steps[1] = "ALTER TABLE ex_items ADD COLUMN muted INTEGER; CREATE TABLE ex_log (x TEXT)"
    assert apply_migrations(conn, "example", steps) == 2
    assert apply_migrations(conn, "example", steps) == 2
    assert schema_version(conn, "core") == len(CORE_MIGRATIONS)


def test_unopenable_path_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StorageError):
        SqliteStore(tmp_path / "file" / "monitor.db")


def test_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        SqliteStore(path)


# --- sources


def test_unknown_source_has_fresh_state(store: SqliteStore) -> None:
    assert store.source_state("never") == SourceState("never")


def test_source_state_round_trip_survives_reopen(db_path: Path, store: SqliteStore, clock: Clock) -> None:
    state = SourceState(
        name="azatutyun",
        etag='W/"abc"',
        last_modified="Wed, 04 Jul 2017 10:00:00 GMT",
        last_fetch=T0,
        last_success=T0 - timedelta(minutes=5),
        last_status=200,
        last_error=None,
        error_count=0,
        next_due=T0 + timedelta(minutes=5),
    )
    store.save_source_state(state)
    failing = SourceState("apa", last_fetch=T0, last_status=503, last_error="503 Service Unavailable", error_count=3)
    store.save_source_state(failing)
    store.close()
    reopened = SqliteStore(db_path, clock=clock)
    assert reopened.source_state("azatutyun") == state
    assert reopened.source_states() == [failing, state]
    reopened.close()


def test_datetimes_come_back_utc_aware(store: SqliteStore) -> None:
    yerevan = datetime(2026, 3, 1, 16, 0, tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Yerevan"))
    store.save_source_state(SourceState("s", next_due=yerevan))
    due = store.source_state("s").next_due
    assert due == yerevan and due is not None and due.utcoffset() == timedelta(0)


# --- articles and alerts


def test_new_article_makes_alert_owed_to_each_notifier(store: SqliteStore, db_path: Path) -> None:
    a = article()
    alerts = save_new(store, a, match("ceasefire"), match("karabakh"))
    assert sorted(x.watchlist for x in alerts) == ["ceasefire", "karabakh"]
    first = alerts[0]
    assert (first.article_id, first.kind, first.url, first.source, first.title) == (
        a.id,
        "new",
        a.url,
        a.source,
        a.title,
    )
    assert first.terms == ("violated", "ceasefire") and first.created == T0 and first.published == a.published
    for notifier in NOTIFIERS:
        assert [x.id for x in store.owed(notifier, T0)] == [x.id for x in alerts]
    assert store.outbox_depth() == 4
    assert count(db_path, "SELECT COUNT(*) FROM article_versions") == 1
    stored = store.find_article(a.id)
    assert stored is not None
    assert stored.alerted == {"ceasefire", "karabakh"}
    assert (stored.content_hash, stored.fingerprint, stored.text) == (a.content_hash, fingerprint(a.text), a.text)


def test_best_scoring_match_of_a_watch_list_makes_its_one_alert(store: SqliteStore) -> None:
    alerts = save_new(store, article(), match(score=0.5, snippet="weak"), match(score=2.0, snippet="strong"))
    assert [(x.watchlist, x.snippet) for x in alerts] == [("ceasefire", "strong")]


def test_saving_the_same_article_twice_alerts_once(store: SqliteStore, db_path: Path) -> None:
    a = article()
    assert len(save_new(store, a, match())) == 1
    assert save_new(store, a, match()) == []
    assert count(db_path, "SELECT COUNT(*) FROM alerts") == 1
    assert count(db_path, "SELECT COUNT(*) FROM outbox") == 2
    assert count(db_path, "SELECT COUNT(*) FROM article_versions") == 1
    assert count(db_path, "SELECT COUNT(*) FROM matches") == 1


def test_no_match_no_alert_but_article_is_stored(store: SqliteStore) -> None:
    a = article(title="Festival opens", body="The festival opened in Yerevan.")
    assert save_new(store, a, entry_hash="e1") == []
    stored = store.find_article(a.id)
    assert stored is not None and stored.entry_hash == "e1" and stored.alerted == frozenset()
    assert store.outbox_depth() == 0


def test_guid_finds_article_across_sources_and_urls(store: SqliteStore) -> None:
    a = article("https://news.example/a/1?from=feed-a", guid="urn:story:42")
    save_new(store, a, match())
    b = article("https://mirror.example/story-42", source="outlet-b", guid="urn:story:42")
    found = store.find_article(b.id, b.guid)
    assert found is not None and found.id == a.id and found.alerted == {"ceasefire"}
    assert store.find_article(b.id) is None
    # Recorded under the stored id, the other URL's id leads there from now on, without another alert.
    assert (
        store.save_article(
            b, fingerprint=fingerprint(b.text), kind="new", matches=[match()], notifiers=NOTIFIERS, stored_id=a.id
        )
        == []
    )
    again = store.find_article(b.id)
    assert again is not None and again.id == a.id


def test_edit_adds_version_and_alerts_updated_only_where_not_alerted(
    store: SqliteStore, db_path: Path, clock: Clock
) -> None:
    v1 = article(title="Border villages report a quiet night", body="Residents reported a quiet night.")
    save_new(store, v1, match("karabakh"))
    clock.now = T0 + timedelta(hours=2)
    added = ("The defense ministry said the ceasefire had been violated.",)
    v2 = article(title=v1.title, body=v1.body + " " + added[0])
    alerts = store.save_article(
        v2,
        fingerprint=fingerprint(v2.text),
        kind="updated",
        matches=[match("ceasefire"), match("karabakh")],
        notifiers=NOTIFIERS,
        added=added,
        stored_id=v1.id,
    )
    assert [(x.watchlist, x.kind, x.added, x.created) for x in alerts] == [("ceasefire", "updated", added, clock.now)]
    assert count(db_path, "SELECT COUNT(*) FROM article_versions") == 2
    assert count(db_path, "SELECT COUNT(*) FROM alerts WHERE watchlist = 'karabakh'") == 1
    stored = store.find_article(v1.id)
    assert stored is not None and stored.text == v2.text and stored.alerted == {"ceasefire", "karabakh"}
    assert stored.first_seen == T0


def test_seen_again_unchanged_remembers_entry_and_time(store: SqliteStore, db_path: Path) -> None:
    a = article()
    save_new(store, a, entry_hash="old")
    [done] = store.record(
        [Candidate(a, "new", fingerprint(a.text), ())], revise=_no_revision, notifiers=NOTIFIERS, listed=(),
        state=SourceState("outlet-a"), seen_at=T0 + timedelta(hours=1),
    )
    assert done.kind == "unchanged"
    stored = store.find_article(a.id)
    assert stored is not None and stored.entry_hash == "new"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT last_seen FROM articles").fetchone()[0].startswith("2026-03-01T13:00")


# --- syndicated copies


def _seed_text() -> str:
    return SEED_BODY.read_text(encoding="utf-8")


def _copy_of_seed() -> str:
    text = _seed_text().replace("Tuesday, July 4", "Tuesday July 4", 1).replace("struck", "hit", 1)
    return "By Staff Reporter, Agency News Service\n" + text


def test_near_duplicate_found_for_light_edit_not_for_other_story_nor_outside_window(
    store: SqliteStore, clock: Clock
) -> None:
    original = article("https://panarmenian.example/seed", source="panarmenian", body=_seed_text())
    other = article("https://other.example/story", source="other", body=(SEED / "decoy.html").read_text("utf-8"))
    save_new(store, original, match())
    save_new(store, other)
    copy_print = fingerprint(_copy_of_seed())
    found = store.find_near_duplicate(copy_print, T0 - timedelta(hours=24), "copy-id")
    assert found is not None and found.id == original.id
    assert store.find_near_duplicate(copy_print, T0 - timedelta(hours=24), original.id) is None
    assert store.find_near_duplicate(copy_print, T0 + timedelta(seconds=1), "copy-id") is None
    half = "\n".join(_seed_text().split("\n")[: len(_seed_text().split("\n")) // 2])
    assert store.find_near_duplicate(fingerprint(half + " unrelated words"), T0 - timedelta(days=1), "x") is None


def test_near_duplicate_returns_the_closest(store: SqliteStore) -> None:
    text = _seed_text()
    far = article("https://a.example/far", source="a", body=_copy_of_seed())
    exact = article("https://b.example/exact", source="b", body=text)
    save_new(store, far, match())
    save_new(store, exact, match())
    found = store.find_near_duplicate(fingerprint(text), T0 - timedelta(hours=1), "new")
    assert found is not None and found.id == exact.id


def test_only_articles_that_alerted_are_near_duplicate_originals(store: SqliteStore) -> None:
    quiet = article("https://a.example/quiet", source="a", body=_seed_text())
    save_new(store, quiet)
    since = T0 - timedelta(hours=1)
    assert store.find_near_duplicate(fingerprint(_copy_of_seed()), since, "copy") is None
    save_new(store, article("https://b.example/loud", source="b", body=_seed_text()), match())
    found = store.find_near_duplicate(fingerprint(_copy_of_seed()), since, "copy")
    assert found is not None and found.source == "b"


def test_edit_moves_article_to_its_new_fingerprint(store: SqliteStore) -> None:
    before = article("https://o.example/1", source="o", body="A short story about the harvest in Tavush province.")
    save_new(store, before, match())
    after = article("https://o.example/1", source="o", body=_seed_text())
    store.save_article(after, fingerprint=fingerprint(after.text), kind="updated", matches=(), notifiers=NOTIFIERS)
    since = T0 - timedelta(hours=1)
    found = store.find_near_duplicate(fingerprint(_copy_of_seed()), since, "copy")
    assert found is not None and found.id == after.id
    assert store.find_near_duplicate(fingerprint(before.text), since, "copy") is None


def test_syndicated_copy_is_listed_in_original_alerts_and_makes_none(store: SqliteStore, clock: Clock) -> None:
    original = article("https://panarmenian.example/seed", source="panarmenian", body=_seed_text())
    alert = save_new(store, original, match())[0]
    clock.now = T0 + timedelta(hours=1)
    for n, outlet in enumerate(["news.am", "armenpress", "news.am", "panarmenian"]):
        copy = article(f"https://copy.example/{n}", source=outlet, body=_copy_of_seed())
        assert save_new(store, copy, match(), duplicate_of=original.id) == []
    owed = store.owed("console", clock.now)
    assert [(x.id, x.also_in) for x in owed] == [(alert.id, ("news.am", "armenpress"))]
    stored_copy = store.find_article(article("https://copy.example/1").id)
    assert stored_copy is not None and stored_copy.alerted == {"ceasefire"}  # an edit of the copy will not alert again


def test_copy_of_a_copy_credits_the_original(store: SqliteStore) -> None:
    original = article("https://o.example/1", source="o", body=_seed_text())
    save_new(store, original, match())
    first = article("https://c.example/1", source="c1", body=_copy_of_seed())
    save_new(store, first, duplicate_of=original.id)
    second = article("https://c.example/2", source="c2", body=_copy_of_seed())
    save_new(store, second, duplicate_of=first.id)
    assert store.recent_alerts(1)[0].also_in == ("c1", "c2")


def test_copy_seen_before_original_alerted_is_listed_in_later_alert(store: SqliteStore) -> None:
    original = article("https://o.example/1", source="o", body="Calm day.")
    save_new(store, original)
    save_new(store, article("https://c.example/1", source="c1", body="Calm day."), duplicate_of=original.id)
    edited = article("https://o.example/1", source="o", body="Calm day. Then the ceasefire was violated.")
    alerts = store.save_article(
        edited, fingerprint=1, kind="updated", matches=[match()], notifiers=NOTIFIERS, added=("Then",)
    )
    assert [x.also_in for x in alerts] == [("c1",)]


# --- transactions


def test_batched_saves_commit_together_and_roll_back_together(store: SqliteStore, db_path: Path) -> None:
    with store.transaction():
        save_new(store, article("https://n.example/1"), match())
        save_new(store, article("https://n.example/2"), match())
        assert count(db_path, "SELECT COUNT(*) FROM articles") == 0  # another connection sees nothing yet
    assert count(db_path, "SELECT COUNT(*) FROM alerts") == 2
    with pytest.raises(RuntimeError), store.transaction():
        save_new(store, article("https://n.example/3"), match())
        raise RuntimeError("crash mid-cycle")
    assert count(db_path, "SELECT COUNT(*) FROM articles") == 2
    assert store.find_article(article("https://n.example/3").id) is None
    assert store.outbox_depth() == 4


# --- outbox


def _three_alerts(store: SqliteStore) -> list[int]:
    ids = []
    for n in range(3):
        ids += [x.id for x in save_new(store, article(f"https://news.example/{n}"), match())]
    return ids


def test_owed_is_ordered_limited_and_respects_next_attempt(store: SqliteStore) -> None:
    ids = _three_alerts(store)
    assert [x.id for x in store.owed("console", T0)] == ids
    assert [x.id for x in store.owed("console", T0, limit=2)] == ids[:2]
    assert store.owed("console", T0 - timedelta(seconds=1)) == []
    assert store.owed("webhook", T0) == []
    store.mark_retry(ids[0], "console", "timeout", T0 + timedelta(minutes=1))
    assert store.attempts(ids[0], "console") == 1 and store.attempts(ids[0], "telegram") == 0
    assert [x.id for x in store.owed("console", T0)] == ids[1:]
    assert [x.id for x in store.owed("console", T0 + timedelta(minutes=1))] == ids
    store.mark_retry(ids[0], "console", "timeout again", T0 + timedelta(minutes=3))
    assert store.attempts(ids[0], "console") == 2


def test_delivered_and_failed_are_no_longer_owed(store: SqliteStore, clock: Clock) -> None:
    ids = _three_alerts(store)
    clock.now = T0 + timedelta(minutes=2)
    store.mark_delivered(ids[0], "console")
    store.mark_failed(ids[1], "console", "403 Forbidden")
    assert [x.id for x in store.owed("console", clock.now)] == [ids[2]]
    assert [x.id for x in store.owed("telegram", clock.now)] == ids
    assert store.outbox_depth() == 4
    assert store.attempts(ids[1], "console") == 1


def test_oldest_owed_and_depth(store: SqliteStore, clock: Clock) -> None:
    assert store.oldest_owed() is None and store.outbox_depth() == 0
    first = save_new(store, article("https://n.example/1"), match())[0]
    clock.now = T0 + timedelta(hours=1)
    save_new(store, article("https://n.example/2"), match())
    assert store.oldest_owed() == T0
    for notifier in NOTIFIERS:
        store.mark_delivered(first.id, notifier)
    assert store.oldest_owed() == T0 + timedelta(hours=1)
    assert store.outbox_depth() == 2


def test_restart_keeps_owed_owed_and_delivered_delivered(db_path: Path, store: SqliteStore, clock: Clock) -> None:
    ids = _three_alerts(store)
    store.mark_delivered(ids[0], "console")
    store.mark_retry(ids[1], "console", "timeout", T0 + timedelta(minutes=5))
    store.close()
    reopened = SqliteStore(db_path, clock=clock)
    later = T0 + timedelta(minutes=5)
    assert [x.id for x in reopened.owed("console", later)] == ids[1:]
    assert [x.id for x in reopened.owed("telegram", later)] == ids
    assert reopened.attempts(ids[1], "console") == 1
    # And the articles are remembered: re-polling them after the restart alerts nothing.
    assert save_new(reopened, article("https://news.example/0"), match()) == []
    reopened.close()


def test_recent_alerts_and_stats(store: SqliteStore, clock: Clock) -> None:
    save_new(store, article("https://n.example/1"), match("ceasefire"), match("karabakh"))
    clock.now = T0 + timedelta(days=2)
    save_new(store, article("https://n.example/2"), match("ceasefire"))
    recent = store.recent_alerts(5)
    assert [x.created for x in recent] == [clock.now, T0, T0]
    assert [x.watchlist for x in store.recent_alerts(5, ["karabakh"])] == ["karabakh"]
    assert len(store.recent_alerts(1)) == 1
    assert store.stats_since(T0 + timedelta(days=1)) == {"ceasefire": 1}
    assert store.stats_since(T0) == {"ceasefire": 2, "karabakh": 1}


# --- snapshot


def test_snapshot_writes_do_not_touch_the_file(db_path: Path, store: SqliteStore) -> None:
    save_new(store, article("https://n.example/1"), match())
    dry = store.snapshot()
    assert dry.find_article(article("https://n.example/1").id) is not None
    assert len(save_new(dry, article("https://n.example/2"), match())) == 1
    dry.save_source_state(SourceState("s", error_count=9))
    dry.mark_delivered(1, "console")
    dry.close()
    assert count(db_path, "SELECT COUNT(*) FROM alerts") == 1
    assert count(db_path, "SELECT COUNT(*) FROM sources") == 0
    assert [x.id for x in store.owed("console", T0)] == [1]


def test_recent_entry_hashes_are_the_sources_newest_articles(store: SqliteStore, clock: Clock) -> None:
    for n in range(4):
        clock.now = T0 + timedelta(minutes=n)
        save_new(store, article(f"https://a.example/{n}", source="a"), entry_hash=f"a{n}")
    save_new(store, article("https://b.example/0", source="b"), entry_hash="b0")
    assert store.recent_entry_hashes("a", limit=2) == {"a3", "a2"}
    assert store.recent_entry_hashes("a") == {"a0", "a1", "a2", "a3"}
    assert store.recent_entry_hashes("nobody") == frozenset()


# --- statements


def test_recording_a_document_looks_up_its_near_duplicates_once(store: SqliteStore) -> None:
    """Beyond an article row and a version row per new item, a document costs the same statements however long: its
    items that may be copies look their near duplicates up together."""
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)

    def cost(size: int, source: str) -> int:
        statements.clear()
        items = [article(f"https://{source}.example/{n}", source=source, body=f"Quiet day number {n}.")
                 for n in range(size)]
        found = store.find_articles([(a.id, a.guid) for a in items])
        done = store.record([Candidate(a, "e", fingerprint(a.text), (), T0) for a in items], revise=_no_revision,
                            notifiers=NOTIFIERS, listed=[a.id for a in items[:3]], state=SourceState(source),
                            seen_at=T0)
        assert found == [None] * size and [d.kind for d in done] == ["new"] * size
        return len(statements)

    assert cost(50, "long") - cost(10, "short") == 2 * 40
