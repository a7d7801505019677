"""URL canonicalisation: one spelling per article, so the same story is stored once."""

from __future__ import annotations

from urllib.parse import SplitResult, unquote_plus, urljoin, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "stm_")
TRACKING_PARAMS = frozenset(
    {
        # ad and social click ids
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "twclid", "ttclid", "li_fat_id",
        "yclid", "ysclid", "igshid", "igsh", "rb_clickid", "s_kwcid", "wickedid", "epik",
        # analytics and mailing tools
        "_ga", "_gl", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_conv", "vero_id", "_openstat", "ref_src", "ref_url",
    }
)


def canonical_url(url: str, base: str | None = None) -> str:
    """`url` resolved against `base`, with case, default port, fragment and tracking parameters normalised away.

    Never raises: input that cannot be parsed comes back stripped of surrounding whitespace.
    """
    raw = url.strip()
    try:
        parts = urlsplit(urljoin(base.strip(), raw) if base else raw)
        netloc = _netloc(parts)
    except ValueError:
        return raw
    path = parts.path or ("/" if netloc else "")
    # stripped again: what stood before a dropped fragment or query may end in whitespace ("a #top")
    return urlunsplit((parts.scheme.lower(), netloc, path, _clean_query(parts.query), "")).strip()


def is_tracking_param(name: str) -> bool:
    """True for query parameters that only identify a campaign, click or mailing, not the content."""
    key = unquote_plus(name).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _netloc(parts: SplitResult) -> str:
    """The authority with a lower-case host and without the scheme's default port (ValueError on a bad port)."""
    if not parts.netloc:
        return ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    return f"{userinfo}{at}{host}"


def _clean_query(query: str) -> str:
    """The query without tracking parameters and empty pairs; other pairs keep their order and spelling."""
    pairs = (pair for pair in query.split("&") if pair)
    return "&".join(pair for pair in pairs if not is_tracking_param(pair.partition("=")[0]))
