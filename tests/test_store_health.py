"""The store's part of source health and page re-checks, on SQLite and PostgreSQL (the contract's `store` fixture):
health states kept by key across a reopen, and which alerted articles' pages are due for a re-check."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.store import Store

from . import test_store_contract as contract
from .test_store import T0, Clock
from .test_store_contract import BACKENDS, article, candidate, copy_of_seed, match, record, seed_text

HOUR = timedelta(hours=1)
clock, store = contract.clock, contract.store  # the contract's fixtures: both stores


def test_health_states_are_kept_replaced_and_forgotten(store: Store) -> None:
    assert store.health_states() == {}
    store.save_health_state("apa", {"usual_gap": 600.0, "problems": {"silent": {"since": "2026-03-01T12:00:00"}}})
    store.save_health_state("", {"problems": {}})
    store.save_health_state("apa", {"usual_gap": 900.0, "problems": {}})
    assert store.health_states() == {"apa": {"usual_gap": 900.0, "problems": {}}, "": {"problems": {}}}
    store.save_health_state("apa", None)
    store.save_health_state("never-kept", None)
    assert store.health_states() == {"": {"problems": {}}}


@pytest.mark.parametrize("backend", [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def test_health_states_survive_a_reopen(backend: str, request: pytest.FixtureRequest, clock: Clock) -> None:
    first = BACKENDS[backend](request, clock)
    first.save_health_state("apa", {"problems": {"failing": {"announced": True}}})
    first.close()
    again = BACKENDS[backend](request, clock)
    try:
        assert again.health_states() == {"apa": {"problems": {"failing": {"announced": True}}}}
    finally:
        again.close()


def test_pages_to_recheck_are_alerted_originals_of_the_sources_named_longest_unchecked_first(
    store: Store, clock: Clock
) -> None:
    quiet = article("quiet")  # no alert: never re-checked
    early, late = article("early", "The ceasefire was violated."), article("late", "The truce held.")
    record(store, candidate(quiet), candidate(early, match()))
    clock.now = T0 + HOUR
    record(store, candidate(late, match("karabakh")))
    elsewhere = article("x", "The ceasefire was violated again.", source="wire")
    record(store, candidate(elsewhere, match()))
    due = store.pages_to_recheck(["outlet"], T0 - HOUR, T0 + 2 * HOUR, 10)
    assert [a.id for a, _ in due] == [early.id, late.id]
    assert due[0][0].alerted == {"ceasefire"} and due[0][0].text == early.text
    assert [page for _, page in due] == [early.url, late.url]  # read at their URLs, unless told otherwise
    store.save_page_urls({late.id: "http://127.0.0.1:9/feed-link/late"})
    assert [page for _, page in store.pages_to_recheck(["outlet"], T0 - HOUR, T0 + 2 * HOUR, 10)] == [
        early.url, "http://127.0.0.1:9/feed-link/late"]
    store.save_page_urls({})
    assert [a.id for a, _ in store.pages_to_recheck(["outlet"], T0 - HOUR, T0 + 2 * HOUR, 1)] == [early.id]
    assert [a.id for a, _ in store.pages_to_recheck(["outlet"], T0 + HOUR / 2, T0 + 2 * HOUR, 10)] == [late.id]
    assert [a.id for a, _ in store.pages_to_recheck(["outlet"], T0 - HOUR, T0 + HOUR / 2, 10)] == [early.id]
    assert store.pages_to_recheck([], T0 - HOUR, T0 + 2 * HOUR, 10) == []
    store.mark_pages_checked([early.id], T0 + 3 * HOUR)
    assert [a.id for a, _ in store.pages_to_recheck(["outlet"], T0 - HOUR, T0 + 2 * HOUR, 10)] == [late.id]
    assert [a.id for a, _ in store.pages_to_recheck(["outlet", "wire"], T0 - HOUR, T0 + 4 * HOUR, 10)] == [
        late.id, elsewhere.id, early.id]


def test_a_copy_is_not_rechecked_its_original_is(store: Store) -> None:
    original = article("o", seed_text(), source="panarmenian")
    record(store, candidate(original, match()))
    copy = article("c", copy_of_seed(), source="mirror")
    [done] = record(store, candidate(copy, match(), copies=True))
    assert done.kind == "copy"
    due = store.pages_to_recheck(["panarmenian", "mirror"], T0 - HOUR, T0 + HOUR, 10)
    assert [a.id for a, _ in due] == [original.id]
