"""Watch-list queries: parse, match (tokenise once, evaluate every query), score, explain, score on labelled items.

Public API: ``parse``, ``Matcher`` (``match``, ``explain``), ``explain``, ``Explanation``, ``score_labelled``,
``EvalReport``, ``DEFAULT_THRESHOLD``, and the AST node classes.
"""

from monitor.query.explain import Explanation, TermHit, explain
from monitor.query.labelled import EvalReport, score_labelled
from monitor.query.matcher import Matcher
from monitor.query.nodes import And, Field, Near, Not, Or, Phrase, Prefix, Query, Term
from monitor.query.parser import parse
from monitor.query.scoring import DEFAULT_THRESHOLD

__all__ = [
    "DEFAULT_THRESHOLD",
    "And",
    "EvalReport",
    "Explanation",
    "Field",
    "Matcher",
    "Near",
    "Not",
    "Or",
    "Phrase",
    "Prefix",
    "Query",
    "Term",
    "TermHit",
    "explain",
    "parse",
    "score_labelled",
]
