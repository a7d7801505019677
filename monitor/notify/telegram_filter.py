"""Subscriber filters: a subscription's own query, in the watch-list query language, that an alert's article
must also match to reach that chat.

A filter is checked with the watch lists' parser (same grammar, same bounds) when a subscriber sets it, parsed
once per distinct text afterwards, and read against an alert's article (title and stored text, tokenised once
per alert, only when a subscriber of its watch list has a filter).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

from monitor.errors import QuerySyntaxError
from monitor.query.document import Document
from monitor.query.evaluator import evaluate
from monitor.query.nodes import Query
from monitor.query.parser import parse
from monitor.records import Alert
from monitor.store.telegram import TelegramStore

log = logging.getLogger(__name__)

MAX_FILTER = 300  # characters of a filter (it is shown back in /list, within one message)
PARSED_FILTERS = 4096  # distinct filters kept parsed


def check_filter(text: str) -> str:
    """`text` as a filter (whitespace collapsed); QuerySyntaxError where the watch lists' parser refuses it,
    ValueError when it is longer than MAX_FILTER."""
    text = " ".join(text.split())
    if len(text) > MAX_FILTER:
        raise ValueError(f"a filter has at most {MAX_FILTER} characters, this one {len(text)}")
    parse(text)
    return text


@lru_cache(maxsize=PARSED_FILTERS)
def _parsed(text: str) -> Query | None:
    try:
        return parse(text)
    except QuerySyntaxError as exc:  # checked when set: only a parser that changed since can refuse it
        log.warning("subscriber filter %r no longer parses (%s); it lets every alert through", text, exc)
        return None


def admission(store: TelegramStore, alert: Alert) -> Callable[[str], bool]:
    """Whether a filter admits `alert`: its article (as last stored; the alert's own text when it is gone)
    matches the filter's query."""
    document: Document | None = None

    def admits(text: str) -> bool:
        nonlocal document
        query = _parsed(text)
        if query is None:
            return True
        if document is None:
            [article] = store.find_articles([(alert.article_id, None)])
            document = Document(article.title, article.text) if article else Document(alert.title, alert.snippet)
        return evaluate(query, document) is not None

    return admits
