"""What a fetched document's items become in the store, whatever the store: the policy both stores share.

An item stored before with the same content is a sighting; with other content, an edit (the caller's
`revise` says what it added and what that alerts); new and a near-duplicate of an article that already
alerted on every watch list it matches, a copy (saved, alerting nothing); else a new article, alerting on
its matches. `Batch` makes those decisions for all the items of one document in one transaction, over the
few statements a `BatchStore` provides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from monitor.records import Alert, AlertKind, Article, Match
from monitor.store import Candidate, Recorded, Revision, StoredArticle

NEAR_DUPLICATE_CANDIDATES = 64  # newest articles per fingerprint band compared in a near-duplicate look-up


class BatchStore(Protocol):
    """The statements a `Batch` needs of a store (both SqliteStore and PostgresStore have them)."""

    _clock: Callable[[], datetime]

    def _find(self, keys: Sequence[tuple[str, str | None, str | None]]) -> list[StoredArticle | None]: ...

    def find_near_duplicate(self, fingerprint: int, since: datetime, exclude_id: str) -> StoredArticle | None: ...

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
    or its stored article lead to. Near-duplicate originals are looked up when needed: only articles saved one
    by one (an alert, an edit) become or stop being originals, and those are written at once.
    """

    def __init__(self, store: BatchStore, candidates: Sequence[Candidate], seen_at: datetime) -> None:
        self.store, self.candidates, self.seen_at = store, candidates, seen_at
        self.found = store._find([(c.article.id, c.article.guid, c.stored_id) for c in candidates])
        self.new: list[tuple[str, Article, int, str, datetime]] = []
        self.seen: list[tuple[str, str]] = []  # (id, feed entry) of articles seen unchanged
        self.ids: set[str] = set()  # ids an earlier candidate may have written (articles, aliases)
        self.guids: set[str] = set()

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
        since = candidate.copy_since
        original = self.store.find_near_duplicate(candidate.fingerprint, since, article.id) if since else None
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

    def _save(self, candidate: Candidate, kind: AlertKind, matches: Sequence[Match], notifiers: Sequence[str],
              added: Sequence[str] = (), *, duplicate_of: str | None = None, stored_id: str | None = None
              ) -> list[Alert]:
        """`save_article` at once, after the held-back writes (it may read them)."""
        self.flush()
        return self.store.save_article(
            candidate.article, fingerprint=candidate.fingerprint, kind=kind, matches=matches, notifiers=notifiers,
            added=added, duplicate_of=duplicate_of, stored_id=stored_id, entry_hash=candidate.entry_hash,
        )

    def flush(self) -> None:
        if self.new:
            self.store._insert_articles(self.new)
            self.new = []
        if self.seen:
            self.store._mark_seen(self.seen, self.seen_at)
            self.seen = []
