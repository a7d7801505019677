"""CSS selectors as options: a config value soupsieve can read, checked when the config is loaded.

soupsieve is imported on first check, so a config of feeds alone loads no HTML tooling.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from monitor.errors import SelectorError


def css_selector(selector: str) -> str:
    """`selector` when soupsieve can read it (it keeps what it compiled); SelectorError saying why when not."""
    from soupsieve import SelectorSyntaxError
    from soupsieve import compile as compile_selector

    try:
        compile_selector(selector)
    except SelectorSyntaxError as exc:
        raise SelectorError(f"invalid CSS selector {selector!r}: {str(exc).splitlines()[0]}") from None
    return selector


CssSelector = Annotated[str, AfterValidator(css_selector)]  # an option that is a CSS selector
