"""The store's part of adaptive polling, on SQLite and PostgreSQL (the contract tests' `store` fixture): the
interval and its reason kept with the source's state, and the recent items counted per source."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from monitor.records import SourceState
from monitor.store import Store

from .test_store import T0, Clock
from .test_store_contract import Reviser, article, candidate, clock, store  # noqa: F401 - the contract's fixtures

HOUR = timedelta(hours=1)


def test_the_interval_and_its_reason_are_kept_with_the_source_state(store: Store) -> None:  # noqa: F811
    state = SourceState("outlet", etag='"e"', next_due=T0 + HOUR, interval=144.0, interval_reason="25 new in 1h")
    store.save_source_state(state)
    assert store.source_state("outlet") == state
    assert store.source_states() == [state]
    store.save_source_state(SourceState("outlet"))
    assert store.source_state("outlet").interval is None and store.source_state("outlet").interval_reason is None


def test_new_items_count_what_arrived_per_window_by_date_else_first_seen(
    store: Store, clock: Clock  # noqa: F811
) -> None:
    def record(n: int, source: str = "outlet", published_ago: timedelta | None = None) -> None:
        item = replace(article(n, source=source), published=None if published_ago is None else T0 - published_ago)
        store.record([candidate(item)], revise=Reviser(), notifiers=(), listed=(), state=SourceState(source),
                     seen_at=clock.now)

    clock.now = T0 - 30 * HOUR
    record(1)  # undated, first seen 30 h ago
    clock.now = T0
    record(2)  # undated, first seen now
    record(3, published_ago=3 * HOUR)  # dated 3 h ago, first seen now: it arrived 3 h ago
    record(4, published_ago=-5 * HOUR)  # dated in 5 h: taken as arrived when first seen
    record(5, source="other")
    assert store.new_items("outlet", [T0 - HOUR, T0 - 24 * HOUR, T0 - 48 * HOUR]) == [2, 3, 4]
    assert store.new_items("outlet", [T0 + HOUR]) == [0]
    assert store.new_items("nobody", [T0 - HOUR]) == [0]
