"""Watch-list queries: parse, match (tokenise once, evaluate every query), score, explain, evaluate.

Public API: ``parse``, ``Matcher`` (``match``, ``explain``), ``explain``, ``Explanation``, ``evaluate``,
``EvalReport``, ``DEFAULT_THRESHOLD``, and the AST node classes.
"""

from monitor.query.evaluate import EvalReport, evaluate
from monitor.query.explain import Explanation, TermHit, explain
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
    "evaluate",
    "explain",
    "parse",
]
