"""The exception hierarchy: every error the monitor raises on purpose is a MonitorError."""

from __future__ import annotations


class MonitorError(Exception):
    """Base class of the monitor's own errors."""


class ConfigError(MonitorError):
    """A configuration file is missing, unreadable or invalid; the message names file and key."""


class InputError(MonitorError):
    """A file or address named on the command line cannot be read."""


class SelectorError(MonitorError, ValueError):
    """A CSS selector (a config's `article_selector`, `link_selector`, `extract --selector`) cannot be parsed; a
    ValueError too, so that an option model reports it as the key's error."""


class QuerySyntaxError(MonitorError):
    """A watch-list query cannot be parsed; `position` is the character offset of the problem."""

    def __init__(self, message: str, query: str, position: int) -> None:
        super().__init__(f"{message} at position {position} in query {query!r}")
        self.query = query
        self.position = position


class FetchError(MonitorError):
    """A fetch failed: network error, bad status, too large, too many redirects, blocked address."""

    def __init__(self, message: str, url: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.retry_after = retry_after


class Unreachable(FetchError):
    """No connection could be made: the name did not resolve, the connection was refused or timed out."""


class AddressRefused(FetchError):
    """The address guard refused a URL: its host is (or resolves to) a non-public address."""


class ParseError(MonitorError):
    """A fetched document is not a feed or page this source kind can read."""


class NoLinks(ParseError):
    """An `html` listing page was read, but its `link_selector` matched nothing on it."""


class StorageError(MonitorError):
    """The store cannot be opened or migrated."""


class DeliveryError(MonitorError):
    """A notifier could not deliver an alert; `permanent` means retrying will not help, `outage` that the
    receiver could not be reached or said it is unavailable (such an attempt never counts towards max_attempts)."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None, outage: bool = False
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.outage = outage
