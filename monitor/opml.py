"""`monitor sources export` and `monitor sources import`: the sources as an OPML 2.0 subscription list.

Export writes the enabled `feed` sources (title, xmlUrl, language, and what else of their config an outline can hold:
fetch_article, article_selector, interval, interval_min, interval_max and watchlists, as attributes in the monitor's
own namespace, which feed readers ignore and import reads back); other kinds (an `html` listing) are left out, with
a note, as an OPML reader would take their page for a feed. Headers (credentials) are never exported.
Import reads a list with listparser, after lxml has checked it is well-formed XML with an <opml> root (listparser
reads what it can of a broken file), and adds the feeds whose URL is not configured yet. The config file keeps
its comments: the new sources are appended as flow-style lines under `sources:` when that is its last top-level
key, else written to a file beside it, for the operator to paste.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import yaml
from lxml import etree
from pydantic import ValidationError

from monitor import config as config_mod
from monitor.config import Settings, SourceConfig
from monitor.durations import spoken
from monitor.errors import ConfigError, InputError

TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*(#.*)?$")
NAME = re.compile(r"[\w.\-]+")
MAX_NAME = 40  # characters of a name made from a title
NS = "urn:ceasefire-monitor:source"  # the namespace of the source keys an outline carries beside a reader's
CARRIED = {  # source key: its outline attribute, in NS
    "fetch_article": "fetchArticle", "article_selector": "articleSelector", "interval": "interval",
    "interval_min": "intervalMin", "interval_max": "intervalMax", "watchlists": "watchlists",
}
DURATIONS = ("interval", "interval_min", "interval_max")
ElementTree.register_namespace("monitor", NS)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A feed as an OPML list gives it."""

    title: str
    url: str
    language: str | None
    options: Mapping[str, object] = field(default_factory=dict)  # the CARRIED keys its outline has, as text


def run(settings: Settings, action: str, rest: Sequence[str], args: argparse.Namespace) -> int:
    """`export [--out FILE]` or `import FILE.opml [--dry-run]`."""
    if action == "export":
        if rest or args.wide or args.dry_run:
            raise InputError("usage: monitor sources export [--out FILE]")
        text, left_out = export(settings)
        if args.out:
            _write(Path(args.out), text)
        else:
            sys.stdout.write(text)
        if left_out:
            print(f"left out (not feeds, OPML has no place for their selectors): {', '.join(left_out)}",
                  file=sys.stderr)
        return 0
    if len(rest) != 1 or args.wide or args.out:
        raise InputError("usage: monitor sources import FILE.opml [--dry-run]")
    return import_list(settings, Path(rest[0]), dry_run=args.dry_run)


def export(settings: Settings) -> tuple[str, list[str]]:
    """The enabled feed sources as an OPML 2.0 document, and the names of the enabled sources left out."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = f"ceasefire-monitor sources ({settings.path.name})"
    ElementTree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = ElementTree.SubElement(root, "body")
    left_out = []
    for source in settings.enabled_sources():
        if source.kind != "feed":
            left_out.append(source.name)
            continue
        language = {"language": source.language} if source.language else {}
        attrs = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": str(source.url), **language}
        carried = {f"{{{NS}}}{CARRIED[key]}": value for key, value in carried_options(source).items()}
        ElementTree.SubElement(body, "outline", attrs | carried)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n", left_out


def carried_options(source: SourceConfig) -> dict[str, str]:
    """The CARRIED keys the source sets, as text (durations as the config writes them, watch lists by spaces)."""
    found: dict[str, str] = {}
    for key in CARRIED:
        value = getattr(source, key)
        if value is None or value is False:
            continue
        found[key] = ("true" if value is True else spoken(value) if key in DURATIONS
                      else " ".join(value) if key == "watchlists" else str(value))
    return found


def read(path: Path) -> list[Subscription]:
    """The feeds of an OPML file; InputError naming the file when it cannot be read or is not OPML."""
    import listparser

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{path}: not an OPML file: not well-formed XML ({exc})") from None
    tag = etree.QName(root).localname
    if tag != "opml":
        raise InputError(f"{path}: not an OPML file: its root element is <{tag}>, not <opml>")
    result = listparser.parse(raw)
    if result.bozo:
        raise InputError(f"{path}: not a readable OPML file: {result.bozo_exception}")
    languages, options = {}, {}
    for outline in root.iter("outline"):
        attrs = {key.lower(): value.strip() for key, value in outline.attrib.items()}
        if attrs.get("xmlurl") and attrs.get("language"):
            languages[attrs["xmlurl"]] = attrs["language"].split("-")[0].lower()  # en-US: en
        if attrs.get("xmlurl"):
            options[attrs["xmlurl"]] = {key: _option(key, outline.attrib[f"{{{NS}}}{name}"])
                                        for key, name in CARRIED.items() if f"{{{NS}}}{name}" in outline.attrib}
    return [Subscription(feed.title, feed.url, languages.get(feed.url), options.get(feed.url, {}))
            for feed in result.feeds]


def _option(key: str, text: str) -> object:
    """An outline's attribute as the config key takes it (watch lists: a list of the names between spaces)."""
    return text.split() if key == "watchlists" else text.strip()


def new_sources(settings: Settings, subscriptions: Sequence[Subscription], waiting: Sequence[SourceConfig] = ()
                ) -> tuple[list[SourceConfig], list[str]]:
    """Sources for the subscriptions whose URL is not configured yet (nor `waiting` to be pasted in), named after
    their titles (unique), and why each other one was skipped."""
    taken = {s.name for s in (*settings.monitor.sources, *waiting)}
    configured = {str(s.url) for s in (*settings.monitor.sources, *waiting)}
    watchlists = {w.name for w in settings.watchlists}
    added, skipped = [], []
    for sub in subscriptions:
        try:
            source = SourceConfig.model_validate({"name": "new", "url": sub.url, "language": sub.language,
                                                  **sub.options})
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(part) for part in first["loc"])
            why = f"{sub.url!r} is not an http(s) URL" if key == "url" else f"{key}: {first['msg']}"
            skipped.append(f"{sub.title or sub.url}: {why}")
            continue
        unknown = [name for name in source.watchlists or () if name not in watchlists]
        if unknown:
            skipped.append(f"{sub.title or sub.url}: names watch list(s) not configured here: {', '.join(unknown)}")
            continue
        if str(source.url) in configured:
            skipped.append(f"{sub.title or sub.url}: {source.url} is configured already")
            continue
        name = unique(name_for(sub.title, str(source.url)), taken)
        taken.add(name)
        configured.add(str(source.url))
        added.append(source.model_copy(update={"name": name}))
    return added, skipped


def name_for(title: str, url: str) -> str:
    """A source name made from a feed's title (as it is when it is a valid name already), else from its host."""
    if NAME.fullmatch(title) and len(title) <= MAX_NAME:
        return title
    slug = re.sub(r"[^\w.]+", "-", title.lower()).strip("-.")[:MAX_NAME].strip("-.")
    return slug or (urlsplit(url).hostname or "feed").removeprefix("www.")


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name-2`, `name-3`, ... whichever is not taken."""
    found, n = name, 1
    while found in taken:
        n += 1
        found = f"{name}-{n}"
    return found


def line(source: SourceConfig, indent: str = "  ") -> str:
    """The source as one flow-style line of a YAML list, as the shipped config writes them."""
    language = f", language: {_scalar(source.language)}" if source.language else ""
    rest = "".join(f", {key}: {_flow(key, value)}" for key, value in carried_options(source).items())
    return f"{indent}- {{name: {_scalar(source.name)}, url: {json.dumps(str(source.url))}{language}{rest}}}"


def _flow(key: str, text: str) -> str:
    """A carried key's text as a YAML flow value."""
    if key == "watchlists":
        return f"[{', '.join(_scalar(name) for name in text.split())}]"
    return text if text == "true" else _scalar(text)


def _scalar(text: str) -> str:
    """`text` as a YAML flow scalar: bare when YAML reads it back as this string, else double-quoted."""
    try:
        plain = yaml.safe_load(f"[{text}]") == [text]
    except yaml.YAMLError:
        plain = False
    return text if plain else json.dumps(text, ensure_ascii=False)


def sources_block(text: str) -> tuple[int, str] | None:
    """Where new source lines can go in the config's text: the line of `sources:` when it is the last top-level
    key and a block list (or empty), and the indent of its items; None when they cannot be appended."""
    last = None
    for number, row in enumerate(text.splitlines()):
        found = TOP_LEVEL_KEY.match(row)
        if found:
            last = (number, found[1], found[2])
    if last is None or last[1] != "sources" or last[2] not in ("", "[]"):
        return None
    indent = re.search(r"^(\s+)-\s", text.split("\n", last[0] + 1)[-1], re.MULTILINE)
    return last[0], indent[1] if indent else "  "


def import_list(settings: Settings, opml: Path, dry_run: bool = False) -> int:
    """Add the new feeds of an OPML file to the config (see the module's docstring); print what was added."""
    path = settings.path
    aside = path.with_name(f"{path.stem}.imported-sources.yaml")
    waiting = _waiting(aside)
    added, skipped = new_sources(settings, read(opml), waiting)
    for reason in skipped:
        print(f"skipped {reason}", file=sys.stderr)
    if not added:
        print(f"nothing to add from {opml} ({len(skipped)} skipped)")
        return 0
    text = path.read_text(encoding="utf-8")
    block = sources_block(text)
    lines = [line(s, block[1] if block else "  ") for s in added]
    if dry_run:
        _tell("would add", added, lines)
        print(f"dry run: {len(added)} source(s) to add, {len(skipped)} skipped; nothing written")
        return 0
    if block is None:  # the lines wait beside it, after those of earlier imports not pasted in yet
        header = f"# from {opml}: paste these under `sources:` in {path.name}\n"
        _write(aside, (aside.read_text(encoding="utf-8") if aside.exists() else "") + header + "\n".join(lines) + "\n")
        _tell("to add", added, lines)
        earlier = f", after the {len(waiting)} of earlier imports" if waiting else ""
        print(f"{path}: `sources:` is not the last top-level key (or is not a block list), so the file is left as"
              f" it is: paste the {len(lines)} line(s) of {aside} under `sources:`{earlier}")
        return 0
    rows = text.splitlines()
    rows[block[0]] = re.sub(r"^sources\s*:\s*\[\]", "sources:", rows[block[0]])  # an empty list becomes a block
    _write_checked(path, "\n".join(rows) + "\n" + "\n".join(lines) + "\n")
    _tell("added", added, lines)
    print(f"{path}: {len(added)} source(s) added, {len(skipped)} skipped")
    return 0


def _waiting(aside: Path) -> list[SourceConfig]:
    """The sources an earlier import wrote beside the config and that are not pasted in yet (none if unreadable)."""
    try:
        found = yaml.safe_load(aside.read_text(encoding="utf-8")) if aside.exists() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    waiting = []
    for entry in found if isinstance(found, list) else ():
        try:
            waiting.append(SourceConfig.model_validate(entry))
        except ValidationError:
            continue
    return waiting


def _tell(verb: str, added: Sequence[SourceConfig], lines: Sequence[str]) -> None:
    for source, row in zip(added, lines, strict=True):
        print(f"{verb} {source.name}: {row.strip()}")


def _write_checked(path: Path, text: str) -> None:
    """Replace the config with `text` once it loads (written beside it first, then renamed over it)."""
    trial = path.with_name(f".{path.name}.import")
    _write(trial, text)
    try:
        config_mod.load(trial)
    except ConfigError as exc:
        trial.unlink()
        raise ConfigError(f"{path}: the imported sources would not load, nothing changed:\n{exc}") from None
    os.chmod(trial, path.stat().st_mode)
    os.replace(trial, path)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
