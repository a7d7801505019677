"""Kinds registered under the names a config uses (`kind: feed`, `kind: telegram`).

A built-in kind's module registers it on import, and is imported the first time the kind is
asked for: a notifier kind's when a notifier of it is built, a source kind's when a loaded config
names it (its options model checks the source's keys; the `feed` kind is monitor.sources' own and loads its
parser with the first feed parsed). Importing the config, or loading one of feeds, loads none of
python-telegram-bot, feedparser, lxml or beautifulsoup4.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class Registry(dict[str, T]):
    """Registered kinds; `kinds[name]` and `name in kinds` also know the built-in ones not loaded yet."""

    def __init__(self, what: str, builtin: Mapping[str, str]) -> None:
        super().__init__()
        self.what = what  # "source", "notifier": names the registry in errors
        self.builtin = dict(builtin)  # kind -> the module that registers it

    def __missing__(self, kind: str) -> T:
        if kind not in self.builtin:
            raise KeyError(kind)
        importlib.import_module(self.builtin[kind])
        return dict.__getitem__(self, kind)

    def __contains__(self, kind: object) -> bool:
        return dict.__contains__(self, kind) or kind in self.builtin

    def names(self) -> list[str]:
        """Every kind a config may name, sorted."""
        return sorted(set(self) | set(self.builtin))

    def known(self, kind: str) -> str:
        """`kind` itself when a config may name it; ValueError listing the kinds otherwise (config validation)."""
        if kind not in self:
            raise ValueError(f"unknown {self.what} kind {kind!r}; expected one of: {', '.join(self.names())}")
        return kind
