"""monitor.sourcehealth, the policy alone: what it learns from polls, when a problem opens and clears, that each is
told once, that every source failing is one problem, and that its state carries over a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.sourcehealth import EVERY_SOURCE, Change, Observation, SourceWatch, Thresholds

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
LIMITS = Thresholds(silent_factor=5, silent_min=3600, failing_after=1800, empty_listings=2, short_bodies=3)
UNREACHABLE = "no source is reachable: check the network or DNS"


def told(changes: list[Change]) -> list[tuple[str, str, bool]]:
    return [(c.problem.source, c.problem.kind, c.cleared) for c in changes]


def test_a_feed_silent_for_several_times_its_usual_gap_is_told_once_and_cleared_by_a_new_item() -> None:
    watch = SourceWatch(LIMITS)
    watch.observe(Observation("wire", T0, new_items=5, week_items=84))  # a new item every 2 h over the week
    watch.observe(Observation("wire", T0 + 9 * HOUR))  # polls that work and bring nothing
    assert watch.review(T0 + 9 * HOUR, ["wire"], None) == []  # 9 h < 5 x 2 h
    [change] = watch.review(T0 + 10 * HOUR, ["wire"], None)
    assert told([change]) == [("wire", "silent", False)] and change.problem.since == T0
    assert change.text == "source wire is silent: nothing new for 10h, where it usually brings a new item every 2h"
    assert watch.review(T0 + 20 * HOUR, ["wire"], None) == []  # told once
    watch.observe(Observation("wire", T0 + 21 * HOUR, new_items=1, week_items=80))
    [cleared] = watch.review(T0 + 21 * HOUR, ["wire"], None)
    assert told([cleared]) == [("wire", "silent", True)]
    assert cleared.text == "source wire brings new items again (after 21h)"


def test_silence_needs_a_learnt_gap_and_at_least_silent_min() -> None:
    watch = SourceWatch(LIMITS)
    watch.observe(Observation("blog", T0, new_items=2, week_items=2))  # too few in a week to learn from
    assert watch.review(T0 + 30 * 24 * HOUR, ["blog"], None) == []
    busy = SourceWatch(LIMITS)
    busy.observe(Observation("wire", T0, new_items=9, week_items=10080))  # a new item a minute: 5 min < silent_min
    assert busy.review(T0 + timedelta(minutes=59), ["wire"], None) == []
    assert told(busy.review(T0 + HOUR, ["wire"], None)) == [("wire", "silent", False)]


def test_a_source_failing_longer_than_allowed_is_told_once_with_its_error_and_when_it_works_again() -> None:
    watch = SourceWatch(LIMITS)
    watch.observe(Observation("apa", T0, error="HTTP 503 Service Unavailable"))
    watch.observe(Observation("apa", T0 + HOUR / 4, error="HTTP 503 Service Unavailable"))
    assert watch.review(T0 + HOUR / 4, ["apa"], None) == []
    [change] = watch.review(T0 + HOUR, ["apa"], None)
    assert change.text == "source apa has failed for 1h: HTTP 503 Service Unavailable"
    assert watch.review(T0 + 2 * HOUR, ["apa"], None) == [] and [p.kind for p in watch.problems()] == ["failing"]
    watch.observe(Observation("apa", T0 + 2 * HOUR))
    assert [c.text for c in watch.review(T0 + 2 * HOUR, ["apa"], None)] == ["source apa works again (after 2h)"]
    assert watch.problems() == []


def test_every_source_failing_is_one_problem_and_holds_back_the_sources_own() -> None:
    watch = SourceWatch(LIMITS)
    names = [f"s{n}" for n in range(21)]
    for name in names:
        watch.observe(Observation(name, T0, error="cannot connect: Connection refused"))
    [change] = watch.review(T0 + 2 * HOUR, names, UNREACHABLE)
    assert told([change]) == [(EVERY_SOURCE, "everything", False)] and change.text == UNREACHABLE
    assert watch.review(T0 + 3 * HOUR, names, UNREACHABLE) == []
    for name in names[1:]:  # the network is back for all but one
        watch.observe(Observation(name, T0 + 3 * HOUR))
    changes = watch.review(T0 + 3 * HOUR, names, None)
    assert told(changes) == [(EVERY_SOURCE, "everything", True), ("s0", "failing", False)]  # only the one still down
    assert changes[0].text == "sources work again: a poll succeeded (after 1h)"


def test_a_failing_source_never_told_is_not_told_cleared() -> None:
    watch = SourceWatch(LIMITS)
    for name in ("a", "b"):
        watch.observe(Observation(name, T0, error="refused"))
    assert told(watch.review(T0 + HOUR, ["a", "b"], UNREACHABLE)) == [(EVERY_SOURCE, "everything", False)]
    for name in ("a", "b"):
        watch.observe(Observation(name, T0 + HOUR))
    assert told(watch.review(T0 + HOUR, ["a", "b"], None)) == [(EVERY_SOURCE, "everything", True)]


def test_a_listing_whose_selector_matches_nothing_is_told_after_empty_listings_polls() -> None:
    watch = SourceWatch(LIMITS)
    watch.observe(Observation("gov", T0, new_items=3))
    watch.observe(Observation("gov", T0 + HOUR, listing_empty=True))
    assert watch.review(T0 + HOUR, ["gov"], None) == []
    watch.observe(Observation("gov", T0 + 2 * HOUR, listing_empty=True))
    [change] = watch.review(T0 + 2 * HOUR, ["gov"], None)
    assert "its link_selector matched no link on the listing page in 2 polls in a row" in change.text
    assert watch.review(T0 + 10 * HOUR, ["gov"], None) == []  # not "failing": the selector problem says it
    watch.observe(Observation("gov", T0 + 11 * HOUR))
    assert told(watch.review(T0 + 11 * HOUR, ["gov"], None)) == [("gov", "selector", True)]


def test_extraction_giving_much_shorter_or_empty_bodies_is_told_and_cleared_by_a_usual_one() -> None:
    watch = SourceWatch(LIMITS)
    watch.observe(Observation("pan", T0, bodies=(3000, 3000, 3000, 3000, 3000)))
    watch.observe(Observation("pan", T0 + HOUR, bodies=(400, 350)))
    assert watch.review(T0 + HOUR, ["pan"], None) == []
    watch.observe(Observation("pan", T0 + 2 * HOUR, bodies=(300,)))
    [change] = watch.review(T0 + 2 * HOUR, ["pan"], None)
    assert change.text == ("source pan: article extraction gave short (300 characters) bodies for the last 3 pages,"
                           " usually about 3000: check its article_selector")
    watch.observe(Observation("pan", T0 + 3 * HOUR, bodies=(2500,)))
    assert told(watch.review(T0 + 3 * HOUR, ["pan"], None)) == [("pan", "extraction", True)]
    empty = SourceWatch(LIMITS)
    empty.observe(Observation("new", T0, bodies=(0, 0, 0)))  # empty counts before anything is learnt
    assert "gave empty bodies for the last 3 pages" in empty.review(T0, ["new"], None)[0].text


def test_the_state_carries_over_a_restart_a_problem_is_not_told_again_its_clearing_is() -> None:
    watch = SourceWatch(LIMITS)
    watch.observe(Observation("apa", T0, error="HTTP 500"))
    assert len(watch.review(T0 + HOUR, ["apa"], None)) == 1
    saved = {key: state for key, state in watch.dirty().items() if state is not None}
    assert watch.dirty() == {}  # nothing changed since
    again = SourceWatch(LIMITS, saved)
    assert again.review(T0 + 2 * HOUR, ["apa"], None) == [] and [p.kind for p in again.problems()] == ["failing"]
    again.observe(Observation("apa", T0 + 3 * HOUR))
    assert told(again.review(T0 + 3 * HOUR, ["apa"], None)) == [("apa", "failing", True)]


def test_a_source_no_longer_configured_is_forgotten_and_an_unreadable_state_learnt_again() -> None:
    watch = SourceWatch(LIMITS, {"old": {"bogus": 1}})
    assert watch.dirty() == {"old": None}
    watch.observe(Observation("gone", T0, error="HTTP 500"))
    watch.review(T0, ["kept"], None)
    assert watch.dirty() == {"gone": None}


def test_after_a_restart_silence_and_failing_wait_for_a_poll_and_what_was_told_stays() -> None:
    watch = SourceWatch(LIMITS)
    watch.observe(Observation("wire", T0, new_items=5, week_items=84))  # a gap of 2 h: silent after 10 h
    watch.observe(Observation("apa", T0, error="HTTP 500"))
    assert told(watch.review(T0 + HOUR, ["wire", "apa"], None)) == [("apa", "failing", False)]
    saved = {key: state for key, state in watch.dirty().items() if state is not None}
    again = SourceWatch(LIMITS, saved)  # the service was down for two days
    assert again.review(T0 + 48 * HOUR, ["wire", "apa"], None) == []  # no silence from the down time, apa kept
    assert [(p.source, p.kind) for p in again.problems()] == [("apa", "failing")]
    again.observe(Observation("wire", T0 + 48 * HOUR))  # polled: nothing new in two days, that is silence
    assert told(again.review(T0 + 48 * HOUR, ["wire", "apa"], None)) == [("wire", "silent", False)]
