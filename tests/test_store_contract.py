"""The `Store` contract of the batch methods (`find_articles`, `record`) and of what the service asks through the
interface (`alert`, `stats_since`, `prune`), through the interface alone: every store must pass these.

`store` is parametrised over BACKENDS: SQLite on a file, and PostgreSQL on a new database of the session's throwaway
cluster (marked `postgres`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

import pytest

from monitor.fingerprint import fingerprint
from monitor.records import Alert, Article, Match, SourceState
from monitor.store import Candidate, Recorded, Revision, Store, StoredArticle
from monitor.store.sqlite import SqliteStore
from monitor.store.telegram import TelegramStore
from tests.testdata import SEED_BODY

from .test_store import NOTIFIERS, T0, Clock

WINDOW = T0 - timedelta(hours=24)


def _sqlite(request: pytest.FixtureRequest, clock: Clock) -> Store:
    return SqliteStore(request.getfixturevalue("tmp_path") / "monitor.db", clock=clock)


def _postgres(request: pytest.FixtureRequest, clock: Clock) -> Store:
    from monitor.store.postgres import PostgresStore

    return PostgresStore(request.getfixturevalue("postgres_url"), clock=clock)


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Clock], Store]] = {"sqlite": _sqlite, "postgres": _postgres}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, clock: Clock) -> Iterator[Store]:
    s = BACKENDS[request.param](request, clock)
    yield s
    s.close()


def article(n: int | str, body: str = "Residents reported a quiet night.", *, source: str = "outlet",
            guid: str | None = None, title: str = "Border villages") -> Article:
    return Article(url=f"https://{source}.example/{n}", source=source, title=title, body=body, guid=guid)


def match(watchlist: str = "ceasefire") -> Match:
    return Match(watchlist, "ceasefire NEAR/3 violat*", ("violated", "ceasefire"), "violated the ceasefire", 1.0)


def candidate(a: Article, *matches: Match, entry: str = "e", copies: bool = False, stored_id: str | None = None
              ) -> Candidate:
    return Candidate(a, entry, fingerprint(a.text), matches, WINDOW if copies else None, stored_id)


def seed_text() -> str:
    return SEED_BODY.read_text(encoding="utf-8")


def copy_of_seed() -> str:
    return "By Staff Reporter, Agency News Service\n" + seed_text().replace("struck", "hit", 1)


class Reviser:
    """A `revise` that records what it was asked and alerts on the given matches."""

    def __init__(self, *matches: Match) -> None:
        self.matches = matches
        self.asked: list[tuple[str, str]] = []  # (candidate's text, stored text)

    def __call__(self, candidate: Candidate, stored: StoredArticle) -> Revision:
        self.asked.append((candidate.article.text, stored.text))
        return Revision(("The ceasefire was violated.",), self.matches)


def record(store: Store, *candidates: Candidate, revise: Reviser | None = None, listed: Sequence[str] = (),
           state: SourceState | None = None, seen_at: datetime = T0) -> list[Recorded]:
    return store.record(candidates, revise=revise or Reviser(), notifiers=NOTIFIERS, listed=listed,
                        state=state or SourceState("outlet"), seen_at=seen_at)


def kinds(done: list[Recorded]) -> list[str]:
    return [d.kind for d in done]


# --- find_articles


def test_find_articles_answers_each_key_in_order_by_id_guid_and_alias(store: Store) -> None:
    a, b = article(1, guid="urn:1"), article(2)
    record(store, candidate(a, match()), candidate(b))
    moved = article("moved", "Residents reported a quiet night. Then shelling.", guid="urn:1")  # an edit of a at
    # another URL: recorded under a, its id leads there from now on
    record(store, candidate(moved, stored_id=a.id))
    found = store.find_articles([(b.id, None), ("nobody", None), ("nobody", "urn:1"), (moved.id, None), (a.id, "x")])
    assert [f.id if f else None for f in found] == [b.id, None, a.id, a.id, a.id]
    assert found[2] is not None and found[2].alerted == {"ceasefire"} and found[0] is not None
    assert found[0].alerted == frozenset() and found[0].text == b.text and found[0].fingerprint == fingerprint(b.text)
    assert store.find_articles([]) == []


def test_find_articles_reports_the_originals_alerts_on_a_copy(store: Store) -> None:
    original, copy = article("o", seed_text()), article("c", copy_of_seed(), source="mirror")
    record(store, candidate(original, match()))
    [done] = record(store, candidate(copy, copies=True))
    assert done.kind == "copy"
    [found] = store.find_articles([(copy.id, None)])
    assert found is not None and found.duplicate_of == original.id and found.alerted == {"ceasefire"}


# --- record: what becomes of each candidate


def test_record_stores_new_articles_alerts_on_matches_and_saves_the_state(store: Store) -> None:
    quiet, loud = article(1), article(2, "The ceasefire was violated.")
    state = SourceState("outlet", etag='"v2"', last_fetch=T0, error_count=0)
    done = record(store, candidate(quiet, entry="q"), candidate(loud, match(), match("karabakh")), state=state)
    assert kinds(done) == ["new", "new"] and done[0].alerts == [] and done[0].matches == ()
    assert sorted(a.watchlist for a in done[1].alerts) == ["ceasefire", "karabakh"]
    assert [m.watchlist for m in done[1].matches] == ["ceasefire", "karabakh"]
    for notifier in NOTIFIERS:
        assert [a.id for a in store.owed(notifier, T0)] == [a.id for a in done[1].alerts]
    stored = store.find_article(quiet.id)
    assert stored is not None and stored.entry_hash == "q" and stored.first_seen == T0
    assert store.source_state("outlet") == state


def test_record_an_unchanged_article_remembers_its_entry_and_alerts_nothing(store: Store) -> None:
    a = article(1, "The ceasefire was violated.")
    record(store, candidate(a, match(), entry="old"))
    revise = Reviser(match("karabakh"))
    [done] = record(store, candidate(a, match(), entry="new"), revise=revise, seen_at=T0 + timedelta(hours=1))
    assert (done.kind, done.matches, done.alerts, revise.asked) == ("unchanged", (), [], [])
    stored = store.find_article(a.id)
    assert stored is not None and stored.entry_hash == "new" and store.outbox_depth() == 2


def test_record_an_edit_asks_revise_with_the_stored_version_and_alerts_updated(store: Store, clock: Clock) -> None:
    v1 = article(1)
    record(store, candidate(v1, match("karabakh")))
    v2 = article(1, v1.body + " The ceasefire was violated.")
    clock.now = T0 + timedelta(hours=2)
    revise = Reviser(match("ceasefire"))
    [done] = record(store, candidate(v2, entry="2"), revise=revise)
    assert revise.asked == [(v2.text, v1.text)]
    assert done.kind == "updated" and [m.watchlist for m in done.matches] == ["ceasefire"]
    assert [(a.watchlist, a.kind, a.added) for a in done.alerts] == [("ceasefire", "updated",
                                                                      ("The ceasefire was violated.",))]
    stored = store.find_article(v1.id)
    assert stored is not None and stored.text == v2.text and stored.first_seen == T0
    assert stored.alerted == {"ceasefire", "karabakh"}


def test_record_falls_back_on_the_stored_id_and_makes_the_new_id_lead_there(store: Store) -> None:
    teaser = article("feed-link")
    record(store, candidate(teaser))
    page = article("canonical", teaser.body + " The page says more.")  # its page names another canonical URL
    [done] = record(store, candidate(page, stored_id=teaser.id))
    assert done.kind == "updated"
    found = store.find_article(page.id)
    assert found is not None and found.id == teaser.id
    [seen] = record(store, candidate(article("canonical", page.body)))
    assert seen.kind == "unchanged"
    [alone] = record(store, candidate(article("elsewhere", page.body)))
    assert alone.kind == "new"  # without the stored id, another URL is another article


def test_record_a_near_duplicate_of_an_alerted_article_is_a_copy_listed_in_its_alert(store: Store) -> None:
    original = article("o", seed_text(), source="panarmenian")
    [first] = record(store, candidate(original, match()))
    copy = article("c", copy_of_seed(), source="mirror")
    assert kinds(record(store, candidate(copy))) == ["new"]  # not looked for without copy_since
    again = article("c2", copy_of_seed(), source="agency")
    [done] = record(store, candidate(again, match(), copies=True))
    assert (done.kind, done.matches, done.alerts) == ("copy", (), [])
    assert store.alert(first.alerts[0].id).also_in == ("agency",)
    other = article("c3", copy_of_seed(), source="third")  # matches a watch list the original did not alert on
    [alerting] = record(store, candidate(other, match(), match("karabakh"), copies=True))
    assert alerting.kind == "new" and [a.watchlist for a in alerting.alerts] == ["ceasefire", "karabakh"]


def test_record_sees_the_candidates_before_it_in_the_same_call(store: Store) -> None:
    a = article(1, "The ceasefire was violated.", guid="urn:1")
    same = article("mirror", "The ceasefire was violated.", guid="urn:1")  # same GUID, same text
    edited = article("other", "The ceasefire was violated. Shelling went on.", guid="urn:1")
    original = article("o", seed_text(), source="panarmenian")
    copy = article("c", copy_of_seed(), source="mirror")
    revise = Reviser()
    done = record(store, candidate(a, copies=True), candidate(same, match()), candidate(edited),
                  candidate(original, match()), candidate(copy, match(), copies=True), revise=revise)
    assert kinds(done) == ["new", "unchanged", "updated", "new", "copy"]
    assert revise.asked == [(edited.text, a.text)]
    assert sum(len(d.alerts) for d in done) == 1 and store.outbox_depth() == 2
    assert store.alert(done[3].alerts[0].id).also_in == ("mirror",)


@pytest.mark.parametrize("hours_old", [1, 30])  # the original first seen within the copies' window, or before it
def test_record_follows_an_original_an_earlier_candidate_edited(store: Store, clock: Clock, hours_old: int) -> None:
    original = article("o", seed_text(), source="panarmenian")
    clock.now = T0 - timedelta(hours=hours_old)
    record(store, candidate(original, match()))
    clock.now = T0
    backwards = " ".join(reversed(seed_text().split()))  # another story as far as fingerprints go
    rewritten = article("o", backwards, source="panarmenian")
    old_copy = article("c1", copy_of_seed(), source="mirror")
    new_copy = article("c2", "By Staff Reporter\n" + backwards, source="agency")
    probe = article("probe", "Quiet day.", source="other")  # near duplicates are looked up before the edit
    done = record(store, candidate(probe, copies=True), candidate(rewritten), candidate(old_copy, match(), copies=True),
                  candidate(new_copy, match(), copies=True))
    assert kinds(done) == ["new", "updated", "new", "copy" if hours_old < 24 else "new"]
    expected = store.find_article(original.id) if hours_old < 24 else None
    assert store.find_near_duplicate(fingerprint(new_copy.text), WINDOW, new_copy.id) == expected


def test_record_commits_all_or_nothing(store: Store) -> None:
    a = article(1)
    record(store, candidate(a))

    def broken(candidate: Candidate, stored: StoredArticle) -> Revision:
        raise RuntimeError("crash mid-document")

    new = article(2, "The ceasefire was violated.")
    with pytest.raises(RuntimeError):
        store.record([candidate(new, match()), candidate(article(1, "Edited."))], revise=broken, notifiers=NOTIFIERS,
                     listed=(), state=SourceState("outlet", etag='"v2"'), seen_at=T0)
    assert store.find_article(new.id) is None and store.outbox_depth() == 0
    assert store.source_state("outlet").etag is None


def test_record_marks_listed_articles_seen_and_retention_keeps_them(store: Store, clock: Clock) -> None:
    kept, gone = article(1), article(2)
    record(store, candidate(kept), candidate(gone))
    later = T0 + timedelta(days=100)
    clock.now = later
    record(store, candidate(article(3)), listed=[kept.id], seen_at=later)  # the feed lists `kept`, unchanged
    report = store.prune(T0 + timedelta(days=10))
    assert report.removed["articles"] == 1
    assert store.find_article(kept.id) is not None and store.find_article(gone.id) is None


# --- what else the service and the notifiers ask


def test_alert_and_stats_since(store: Store, clock: Clock) -> None:
    [done] = record(store, candidate(article(1, "The ceasefire was violated."), match(), match("karabakh")))
    clock.now = T0 + timedelta(hours=1)
    record(store, candidate(article(2, "Violations again."), match()))
    alerts: list[Alert] = done.alerts
    assert [store.alert(a.id) for a in alerts] == alerts
    assert store.stats_since(T0) == {"ceasefire": 2, "karabakh": 1}
    assert store.stats_since(T0 + timedelta(minutes=30)) == {"ceasefire": 1}


def test_owed_by_notifier_counts_what_each_notifier_is_still_owed(store: Store) -> None:
    assert store.owed_by_notifier() == {}
    store.save_article(article(1), fingerprint=1, kind="new", matches=[match()], notifiers=["webhook", "retired"])
    [alert] = store.save_article(article(2), fingerprint=2, kind="new", matches=[match()], notifiers=["webhook"])
    assert store.owed_by_notifier() == {"webhook": 2, "retired": 1}
    store.mark_delivered(alert.id, "webhook")
    assert store.owed_by_notifier() == {"webhook": 1, "retired": 1}
    assert sum(store.owed_by_notifier().values()) == store.outbox_depth()


def test_a_telegram_notifiers_per_chat_deliveries_count_as_owed(store: Store, clock: Clock) -> None:
    assert isinstance(store, TelegramStore)
    [alert] = store.save_article(article(1), fingerprint=1, kind="new", matches=[match()], notifiers=["telegram"])
    for chat in ("1", "2", "3"):
        store.register_chat(chat, "private", "reader", T0)
        store.subscribe(chat, "ceasefire", T0)
    assert store.fan_out("telegram", alert, T0, lambda query: True) == 3
    store.mark_delivered(alert.id, "telegram")  # the outbox row is done once the alert is fanned out
    assert store.outbox_depth("telegram") == store.outbox_depth() == 3
    assert store.owed_by_notifier() == {"telegram": 3} and store.outbox_depth("webhook") == 0
    first = store.due_deliveries("telegram", clock.now)[0]
    store.mark_sent([first.id], clock.now)
    assert store.outbox_depth() == 2 and store.owed_by_notifier() == {"telegram": 2}


def test_redeliver_owes_the_dead_letters_of_a_period_again_as_new(store: Store, clock: Clock) -> None:
    [alert] = store.save_article(article(1), fingerprint=1, kind="new", matches=[match()], notifiers=["webhook"])
    store.mark_failed(alert.id, "webhook", "410 Gone")
    assert store.dead_letters(T0) == 1 and store.outbox_depth() == 0
    clock.now = T0 + timedelta(hours=2)
    assert store.redeliver(T0 + timedelta(hours=1)) == (0, 0)  # given up on before the period
    assert store.redeliver(T0, "another") == (0, 0)  # another notifier's
    assert store.redeliver(T0) == (1, 0)
    assert store.dead_letters(T0) == 0 and store.outbox_depth("webhook") == 1
    assert [a.id for a in store.owed("webhook", clock.now)] == [alert.id]  # due at once, as a new alert is
    assert store.redeliver(T0) == (0, 0)  # owed now, not a dead letter
