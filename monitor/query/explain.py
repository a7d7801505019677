"""Why a query (or a watch list) matches a text: terms with positions, score and reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.query.document import FIELD_NAMES, Document
from monitor.query.matcher import Matcher, Outcome, mention_tokens, to_match
from monitor.records import WatchList


@dataclass(frozen=True, slots=True)
class TermHit:
    """One matched word: as written, its field and its character range in that field."""

    text: str
    field: str
    start: int
    end: int


@dataclass(slots=True)
class Explanation:
    """Whether a query or watch list matched a text, and why."""

    query: str
    matched: bool
    score: float
    threshold: float
    language: str | None = None
    terms: list[TermHit] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    snippet: str = ""

    def render(self) -> str:
        """Human-readable text for ``monitor explain``."""
        verdict = "MATCH" if self.matched else "no match"
        lines = [f"{verdict}: {self.query}", f"probability {self.score:.3f} (threshold {self.threshold:.2f}), "
                 f"language {self.language or 'unknown'}"]
        lines += [f"  term {t.text!r} in {t.field} at {t.start}-{t.end}" for t in self.terms]
        lines += [f"  - {reason}" for reason in self.reasons]
        if self.snippet:
            lines.append(f"snippet: {self.snippet}")
        return "\n".join(lines)


def explain(query: str, title: str, body: str, language: str | None = None, threshold: float = 0.0) -> Explanation:
    """Explain one query against a text: matched when the query matches and scores at least ``threshold``."""
    matcher = Matcher([WatchList(name="query", queries=(query,), threshold=threshold)])
    return explain_watchlists(matcher, title, body, language)[0]


def explain_watchlists(matcher: Matcher, title: str, body: str, language: str | None = None) -> list[Explanation]:
    """One Explanation per watch list of ``matcher``, in its order."""
    doc = Document(title, body, language)
    found = {o.watchlist.name: o for o in matcher.outcomes(doc)}
    return [_explanation(w, found.get(w.name), doc) for w in matcher.watchlists]


def _explanation(watchlist: WatchList, outcome: Outcome | None, doc: Document) -> Explanation:
    label = watchlist.queries[0] if len(watchlist.queries) == 1 else f"watch list {watchlist.name}"
    out = Explanation(label, matched=False, score=0.0, threshold=watchlist.threshold, language=doc.language)
    if outcome is None or not outcome.queries:
        out.reasons.append("no query matched")
        return out
    out.matched = outcome.matched
    out.score = round(outcome.relevance.score, 3)
    out.terms = [
        TermHit(doc.surface(i), FIELD_NAMES[doc.fields[i]], *doc.char_span(i))
        for i in mention_tokens(outcome.spans)
    ]
    out.reasons = [f"query matched: {q}" for q in outcome.queries] + outcome.relevance.reasons
    if outcome.excluded_by:
        out.reasons.append(f"vetoed by exclusion: {outcome.excluded_by}")
    elif not outcome.matched:
        out.reasons.append(f"probability below the threshold {watchlist.threshold:.2f}")
    out.snippet = to_match(outcome, doc).snippet
    return out
