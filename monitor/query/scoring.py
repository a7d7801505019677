"""Relevance: tell a story about the watched subject from a passing mention of it.

A watch list's queries find candidates; its relevance model (monitor.query.model) turns the features
of their mentions (monitor.query.features: where they stand, what stands around them, what the whole
text is about) into the probability that the candidate is a story about the subject. The watch
list's ``threshold`` is the probability it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.query.document import Document
from monitor.query.features import features
from monitor.query.model import RelevanceModel
from monitor.records import DEFAULT_THRESHOLD as DEFAULT_THRESHOLD


@dataclass(slots=True)
class Relevance:
    """A probability with what made it, and the first mention that is not a time frame (body before title).

    ``values`` holds the features; ``reasons`` words what each added to the log-odds under ``model``
    (only explain needs that).
    """

    score: float
    strong: int | None = None
    values: dict[str, float] = field(default_factory=dict)
    model: RelevanceModel | None = None

    @property
    def reasons(self) -> list[str]:
        """One line per feature, largest effect first, then the base log-odds."""
        if self.model is None:
            return []
        ranked = sorted(self.model.contributions(self.values), key=lambda c: -abs(c[2]))
        lines = [f"feature {name} = {value:.2f}: {effect:+.2f} log-odds" for name, value, effect in ranked]
        return [*lines, f"base log-odds {self.model.intercept:+.2f}; probability {self.score:.3f}"]


def relevance(doc: Document, mentions: list[int], queries: int, model: RelevanceModel) -> Relevance:
    """The probability that ``doc`` is about the subject, given a watch list's mentions (token indices) and
    how many of its queries matched."""
    found = features(doc, mentions, queries)
    return Relevance(model.probability(found.values), found.strong, found.values, model)
