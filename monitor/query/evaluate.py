"""Score a watch list on labelled items (the format of ``ceasefire-dev.jsonl``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from monitor.query.document import Document
from monitor.query.matcher import Matcher, to_match


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


def evaluate(items: Iterable[dict[str, Any]], matcher: Matcher, watchlist: str) -> EvalReport:
    """Run ``watchlist`` over labelled items (``title``, ``text``, ``label``, optional ``id``/``lang``/``kind``)."""
    if watchlist not in {w.name for w in matcher.watchlists}:
        raise ValueError(f"no watch list named {watchlist!r}")
    report = EvalReport()
    for number, item in enumerate(items, 1):
        doc = Document(str(item.get("title") or ""), str(item.get("text") or ""), item.get("lang"))
        outcome = next((o for o in matcher.outcomes(doc) if o.watchlist.name == watchlist), None)
        predicted = outcome is not None and outcome.matched
        label = bool(item["label"])
        lang, kind = str(item.get("lang") or "?"), str(item.get("kind") or "?")
        for counts in (report, report.by_lang.setdefault(lang, Counts()), report.by_kind.setdefault(kind, Counts())):
            counts.add(predicted, label)
        if predicted != label:
            found = to_match(outcome, doc) if outcome is not None and outcome.queries else None
            report.errors.append(
                EvalError(
                    id=str(item.get("id", number)),
                    label=int(label),
                    kind=kind,
                    lang=lang,
                    score=outcome.relevance.score if outcome else 0.0,
                    terms=found.terms if found else (),
                    snippet=found.snippet if found else "",
                )
            )
    return report
