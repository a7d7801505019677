"""What a fetched document's items become in the store, whatever the store: the policy both stores share.

An item stored before with the same content is a sighting; with other content, an edit (the caller's
`revise` says what it added and what that alerts); new and a near-duplicate of an article that already
alerted on every watch list it matches, a copy (saved, alerting nothing); else a new article, alerting on
its matches. `Batch` makes those decisions for all the items of one document in one transaction, over the
few statements a `BatchStore` provides.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from monitor.fingerprint import NEAR_DUPLICATE_DISTANCE, bands, hamming
from monitor.records import Alert, AlertKind, Article, Match
from monitor.store import Candidate, Recorded, Revision, StoredArticle

NEAR_DUPLICATE_CANDIDATES = 64  # newest articles per fingerprint band compared in a near-duplicate look-up

Band = tuple[int, int]  # (band, value): one of a fingerprint's `bands`, as the near-duplicate index keys it
Original = tuple[int, datetime, str]  # an article that alerted, in the index: fingerprint, first seen, id
Originals = dict[Band, list[Original]]


def fingerprint_bands(fingerprint: int) -> list[Band]:
    return list(enumerate(bands(fingerprint)))


def newest_per_band(keys: Iterable[Band], rows: Iterable[tuple[int, int, int, datetime, str]]) -> Originals:
    """Index rows (band, value, fingerprint, first seen, id) by band, every key present: each band's newest first
    (the greater id first at the same time), at most NEAR_DUPLICATE_CANDIDATES + 1 (a look-up may exclude one)."""
    found: Originals = {key: [] for key in keys}
    for band, value, other, seen, article_id in rows:
        found[band, value].append((other, seen, article_id))
    for originals in found.values():
        originals.sort(key=lambda o: (o[1], o[2]), reverse=True)
        del originals[NEAR_DUPLICATE_CANDIDATES + 1:]
    return found


def closest(fingerprint: int, since: datetime, exclude_id: str, originals: Mapping[Band, Sequence[Original]]
            ) -> str | None:
    """The id `Store.find_near_duplicate` finds among `originals` (`newest_per_band`, holding the fingerprint's
    bands): the closest within the distance among each band's NEAR_DUPLICATE_CANDIDATES newest first seen since
    `since`, but `exclude_id`; at the same distance the first seen earliest, then the least id."""
    nearest = min(
        ((hamming(fingerprint, other), seen, article_id)
         for band in fingerprint_bands(fingerprint)
         for other, seen, article_id in [o for o in originals[band] if o[1] >= since and o[2] != exclude_id][
             :NEAR_DUPLICATE_CANDIDATES]),
        default=None,
    )
    return nearest[2] if nearest is not None and nearest[0] <= NEAR_DUPLICATE_DISTANCE else None


def near_duplicate(store: BatchStore, fingerprint: int, since: datetime, exclude_id: str) -> StoredArticle | None:
    """`Store.find_near_duplicate`: the closest article within the distance among the newest sharing a band.

    Only articles that alerted are candidates: a copy matters as the copy of something subscribers
    were told about (its alert lists the copy's outlet; the copy does not alert again). Each band
    contributes at most NEAR_DUPLICATE_CANDIDATES of its newest articles, so a flood of
    look-alike items (stock phrases, templated teasers) costs a bounded look-up, not one per stored item.
    """
    found = closest(fingerprint, since, exclude_id, store._near_duplicates(fingerprint_bands(fingerprint), since))
    return store.find_article(found) if found else None


class BatchStore(Protocol):
    """The statements a `Batch` needs of a store (both SqliteStore and PostgresStore have them)."""

    _clock: Callable[[], datetime]

    def _find(self, keys: Sequence[tuple[str, str | None, str | None]]) -> list[StoredArticle | None]: ...

    def find_article(self, article_id: str, guid: str | None = None) -> StoredArticle | None: ...

    def _near_duplicates(self, keys: Collection[Band], since: datetime) -> Originals:
        """One statement: `newest_per_band` of the index rows of these bands first seen at or after `since`."""
        ...

    def save_article(
        self,
        article: Article,
        *,
        fingerprint: int,
        kind: AlertKind,
        matches: Sequence[Match],
        notifiers: Sequence[str],
        added: Sequence[str] = (),
        duplicate_of: str | None = None,
        stored_id: str | None = None,
        entry_hash: str = "",
    ) -> list[Alert]: ...

    def _insert_articles(self, rows: Sequence[tuple[str, Article, int, str, datetime]]) -> None: ...

    def _mark_seen(self, sightings: Sequence[tuple[str, str]], seen_at: datetime) -> None: ...


class Batch:
    """One `Store.record`: the candidates' look-ups, made for all at once, and writes held back to be made
    in bulk (new articles that alert on nothing, sightings of unchanged ones) before anything reads them.

    A candidate is looked up again (after the held-back writes) when an earlier one wrote an article its keys
    or its stored article lead to. Near-duplicate originals are looked up once, for the first candidate that may
    be a copy and every later one that may be new: all their bands in one statement. Only articles saved one by
    one become or stop being originals (an alert, an edit), so such a save forgets the bands it may have
    changed (an edit: all), and the next candidate that needs one of those looks the originals up again.
    """

    def __init__(self, store: BatchStore, candidates: Sequence[Candidate], seen_at: datetime) -> None:
        self.store, self.candidates, self.seen_at = store, candidates, seen_at
        self.found = store._find([(c.article.id, c.article.guid, c.stored_id) for c in candidates])
        self.new: list[tuple[str, Article, int, str, datetime]] = []
        self.seen: list[tuple[str, str]] = []  # (id, feed entry) of articles seen unchanged
        self.ids: set[str] = set()  # ids an earlier candidate may have written (articles, aliases)
        self.guids: set[str] = set()
        self.originals: Originals = {}  # near-duplicate originals by band, first seen since `originals_since`
        self.originals_since: datetime | None = None

    def record(self, n: int, revise: Callable[[Candidate, StoredArticle], Revision], notifiers: Sequence[str]
               ) -> Recorded:
        """What becomes of the n-th candidate (see `Store.record`)."""
        candidate = self.candidates[n]
        article = candidate.article
        stored = self._look_up(n)
        if stored is not None and stored.content_hash == article.content_hash:
            self.seen.append((stored.id, candidate.entry_hash))
            return Recorded("unchanged", (), [])
        if stored is not None:
            revision = revise(candidate, stored)
            alerts = self._save(candidate, "updated", revision.matches, notifiers, revision.added, stored_id=stored.id)
            return Recorded("updated", revision.matches, alerts)
        original = self._near_duplicate(n)
        if original is not None and all(m.watchlist in original.alerted for m in candidate.matches):
            self._save(candidate, "new", (), notifiers, duplicate_of=original.id)
            return Recorded("copy", (), [])
        if not candidate.matches:
            self.new.append((article.id, article, candidate.fingerprint, candidate.entry_hash, self.store._clock()))
            return Recorded("new", (), [])
        return Recorded("new", candidate.matches, self._save(candidate, "new", candidate.matches, notifiers))

    def _look_up(self, n: int) -> StoredArticle | None:
        candidate, stored = self.candidates[n], self.found[n]
        article = candidate.article
        reached = {article.id, candidate.stored_id, *((stored.id, stored.duplicate_of) if stored else ())}
        if not self.ids.isdisjoint(reached) or article.guid in self.guids:
            self.flush()
            stored = self.store._find([(article.id, article.guid, candidate.stored_id)])[0]
        self.ids.update((article.id, stored.id) if stored else (article.id,))
        if article.guid:
            self.guids.add(article.guid)
        return stored

    def _near_duplicate(self, n: int) -> StoredArticle | None:
        """`find_near_duplicate` for the n-th candidate (new), from the originals looked up for the document."""
        candidate = self.candidates[n]
        since = candidate.copy_since
        if since is None:
            return None
        if self.originals_since is None or since < self.originals_since or any(
            key not in self.originals for key in fingerprint_bands(candidate.fingerprint)
        ):
            later = [(c.copy_since, c.fingerprint) for m, c in enumerate(self.candidates[n:], n)
                     if c.copy_since and (m == n or self.found[m] is None)]
            self.originals_since = min(s for s, _ in later if s)
            self.originals = self.store._near_duplicates(
                {key for _, f in later for key in fingerprint_bands(f)}, self.originals_since
            )
        found = closest(candidate.fingerprint, since, candidate.article.id, self.originals)
        return self.store.find_article(found) if found else None

    def _save(self, candidate: Candidate, kind: AlertKind, matches: Sequence[Match], notifiers: Sequence[str],
              added: Sequence[str] = (), *, duplicate_of: str | None = None, stored_id: str | None = None
              ) -> list[Alert]:
        """`save_article` at once, after the held-back writes (it may read them); forget the near-duplicate
        originals it may have changed (a copy changes none)."""
        self.flush()
        alerts = self.store.save_article(
            candidate.article, fingerprint=candidate.fingerprint, kind=kind, matches=matches, notifiers=notifiers,
            added=added, duplicate_of=duplicate_of, stored_id=stored_id, entry_hash=candidate.entry_hash,
        )
        if kind == "updated":  # an edit: the stored article's old bands may be dropped
            self.originals = {}
        elif duplicate_of is None:
            for key in fingerprint_bands(candidate.fingerprint):
                self.originals.pop(key, None)
        return alerts

    def flush(self) -> None:
        if self.new:
            self.store._insert_articles(self.new)
            self.new = []
        if self.seen:
            self.store._mark_seen(self.seen, self.seen_at)
            self.seen = []
