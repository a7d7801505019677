"""Labelled items (the format of ``ceasefire-dev.jsonl``): a watch list's verdicts and its precision and recall."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from monitor.query.document import Document
from monitor.query.matcher import Matcher, Outcome, to_match


@dataclass(slots=True)
class Counts:
    """A confusion matrix with its figures."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, predicted: bool, label: bool) -> None:
        if predicted:
            self.tp += label
            self.fp += not label
        else:
            self.fn += label
            self.tn += not label

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "n": self.n,
        }


@dataclass(slots=True)
class EvalError:
    """A false positive or false negative, with what the alert would have carried."""

    id: str
    label: int
    kind: str
    lang: str
    score: float
    terms: tuple[str, ...]
    snippet: str


@dataclass(slots=True)
class EvalReport(Counts):
    """Overall counts, counts by language and by kind, and the errors."""

    by_lang: dict[str, Counts] = field(default_factory=dict)
    by_kind: dict[str, Counts] = field(default_factory=dict)
    errors: list[EvalError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = Counts.as_dict(self)
        out["by_lang"] = {k: v.as_dict() for k, v in sorted(self.by_lang.items())}
        out["by_kind"] = {k: v.as_dict() for k, v in sorted(self.by_kind.items())}
        out["errors"] = [asdict(e) for e in self.errors]
        return out


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one watch list judged one labelled item."""

    predicted: bool
    label: bool
    lang: str
    kind: str
    error: EvalError | None


def item_document(item: dict[str, Any]) -> Document:
    """A labelled item's title and text as the matcher reads them, its ``lang`` the hint."""
    return Document(str(item.get("title") or ""), str(item.get("text") or ""), item.get("lang"))


def item_groups(item: dict[str, Any]) -> tuple[str, str]:
    """A labelled item's language and kind, as the reports group them ("?" when not given)."""
    return str(item.get("lang") or "?"), str(item.get("kind") or "?")


def judge(item: dict[str, Any], number: int, matcher: Matcher, watchlists: Sequence[str]) -> list[Verdict]:
    """One verdict per name in ``watchlists`` on a labelled item (tokenised and matched once, as the pipeline does)."""
    doc = item_document(item)
    found: dict[str, Outcome] = {}
    for each in matcher.outcomes(doc):
        found.setdefault(each.watchlist.name, each)
    label = bool(item["label"])
    lang, kind = item_groups(item)
    out = []
    for name in watchlists:
        outcome = found.get(name)
        predicted = outcome is not None and outcome.matched
        error = None
        if predicted != label:
            match = to_match(outcome, doc) if outcome is not None and outcome.queries else None
            error = EvalError(
                id=str(item.get("id", number)),
                label=int(label),
                kind=kind,
                lang=lang,
                score=outcome.relevance.score if outcome else 0.0,
                terms=match.terms if match else (),
                snippet=match.snippet if match else "",
            )
        out.append(Verdict(predicted, label, lang, kind, error))
    return out


def tally(verdicts: Iterable[Verdict]) -> EvalReport:
    """Counts overall, by language and by kind, and the errors in the order of the verdicts."""
    report = EvalReport()
    for verdict in verdicts:
        by_lang = report.by_lang.setdefault(verdict.lang, Counts())
        for counts in (report, by_lang, report.by_kind.setdefault(verdict.kind, Counts())):
            counts.add(verdict.predicted, verdict.label)
        if verdict.error is not None:
            report.errors.append(verdict.error)
    return report


def check_watchlists(matcher: Matcher, watchlists: Iterable[str]) -> None:
    """Raise ValueError for a name that is not one of the matcher's watch lists."""
    known = {w.name for w in matcher.watchlists}
    for name in watchlists:
        if name not in known:
            raise ValueError(f"no watch list named {name!r}")


def score_labelled(items: Iterable[dict[str, Any]], matcher: Matcher, watchlist: str) -> EvalReport:
    """Run ``watchlist`` over labelled items (``title``, ``text``, ``label``, optional ``id``/``lang``/``kind``)."""
    check_watchlists(matcher, [watchlist])
    return tally(judge(item, number, matcher, [watchlist])[0] for number, item in enumerate(items, 1))
