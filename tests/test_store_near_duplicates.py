"""The `Store` contract of near duplicates in `Store.record`, which looks a document's originals up together (one
statement for all its items that may be copies): the same copies as one `find_near_duplicate` per item, on both
backends (the `store` of test_store_contract.py)."""

from __future__ import annotations

from datetime import timedelta

from monitor.fingerprint import fingerprint
from monitor.records import Article
from monitor.store import Candidate, Store
from monitor.store.batch import NEAR_DUPLICATE_CANDIDATES
from tests import test_store_contract as contract
from tests.test_store import T0, Clock
from tests.test_store_contract import WINDOW, article, candidate, copy_of_seed, kinds, match, record, seed_text

store, clock = contract.store, contract.clock  # the fixtures: both backends, a settable clock

BACKWARDS = " ".join(reversed(seed_text().split()))  # another story as far as fingerprints go


def test_a_document_holding_an_alert_and_its_near_copies_records_them_as_copies(store: Store) -> None:
    original = article("o", seed_text(), source="panarmenian")
    copy = article("c", copy_of_seed(), source="mirror")
    quiet = article("q", copy_of_seed().replace("By Staff Reporter", "By Wire Staff"), source="wire")  # no match
    done = record(store, candidate(original, match(), copies=True), candidate(copy, match(), copies=True),
                  candidate(quiet, copies=True))
    assert kinds(done) == ["new", "copy", "copy"]
    assert store.alert(done[0].alerts[0].id).also_in == ("mirror", "wire")
    assert store.outbox_depth() == 2  # the original's alert, for each notifier


def test_copies_in_a_document_find_their_own_originals_of_an_earlier_poll(store: Store, clock: Clock) -> None:
    seed, other = article("seed", seed_text(), source="panarmenian"), article("back", BACKWARDS, source="azatutyun")
    first = record(store, candidate(seed, match()), candidate(other, match("karabakh")))
    clock.now = T0 + timedelta(hours=1)
    quiet = article("quiet", "Residents reported a quiet night in the border villages.", source="wire")
    of_other = article("c1", "By Staff Reporter\n" + BACKWARDS, source="mirror")
    of_seed = article("c2", copy_of_seed(), source="agency")
    late = article("c3", copy_of_seed().replace("By Staff Reporter", "By Wire Staff"), source="late")
    fresh = Candidate(late, "e", fingerprint(late.text), (match(),), T0 + timedelta(minutes=1))  # after the originals
    done = record(store, candidate(quiet, copies=True), candidate(of_other, match("karabakh"), copies=True),
                  candidate(of_seed, match(), copies=True), fresh, seen_at=clock.now)
    assert kinds(done) == ["new", "copy", "copy", "new"]
    assert [store.alert(d.alerts[0].id).also_in for d in first] == [("agency",), ("mirror",)]


def _with(a: Article, fingerprint: int, *, alerts: bool = False, copies: bool = False) -> Candidate:
    """A candidate with the given fingerprint, whatever its text."""
    return Candidate(a, "e", fingerprint, (match(),) if alerts else (), WINDOW if copies else None)


def test_a_flood_of_look_alikes_pushes_an_original_out_of_its_band(store: Store, clock: Clock) -> None:
    """Only each band's NEAR_DUPLICATE_CANDIDATES newest originals are compared: look-alikes alerting after an
    original, in the one band it shares with a copy, hide it from the copy, in a later poll or in the same document."""
    original = fingerprint(seed_text())
    near = sum(1 << bit for bit in (11, 22, 33, 44, 54))  # one bit in every band but the first: 5 bits apart
    far = ((1 << 64) - 1) ^ ((1 << 11) - 1)  # every bit but the first band's: 53 bits apart
    clock.now = T0 - timedelta(hours=2)
    [seed] = record(store, _with(article("o", seed_text(), source="panarmenian"), original, alerts=True))
    clock.now = T0 - timedelta(hours=1)
    flood = [article(f"teaser-{n}", "Read more.", source="flood") for n in range(NEAR_DUPLICATE_CANDIDATES)]
    alerted = record(store, *(_with(a, original ^ far, alerts=True) for a in flood[:-1]))
    assert [(d.kind, len(d.alerts)) for d in alerted] == [("new", 1)] * (NEAR_DUPLICATE_CANDIDATES - 1)
    clock.now = T0
    [copy] = record(store, _with(article("c1", copy_of_seed(), source="mirror"), original ^ near, copies=True))
    assert copy.kind == "copy" and store.alert(seed.alerts[0].id).also_in == ("mirror",)
    probe = article("probe", "Residents reported a quiet night.", source="other")
    late = article("c2", copy_of_seed(), source="agency")
    done = record(store, _with(probe, fingerprint(probe.text), copies=True),
                  _with(flood[-1], original ^ far, alerts=True), _with(late, original ^ near, copies=True))
    assert kinds(done) == ["new", "new", "new"]
    assert store.alert(seed.alerts[0].id).also_in == ("mirror",)
