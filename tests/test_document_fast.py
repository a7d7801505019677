# ruff: noqa: RUF001 - multi-script test data
"""Document's tokeniser against a plain token-by-token reference: same words, fields, sentences and positions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.query import document
from monitor.query.document import Document, Sentence, norm_parts
from monitor.query.text import TOKEN_RE, sentence_ends


@dataclass
class Reference:
    """Each token found, folded and placed one at a time (the straightforward way to tokenise)."""

    norms: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    fields: list[int] = field(default_factory=list)
    sents: list[int] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)


def reference(title: str, body: str) -> Reference:
    out = Reference()
    for which, text in enumerate((title, body)):
        ends = sentence_ends(text)
        first = len(out.sentences)
        bounds = [0, *ends, len(text)]
        out.sentences += [Sentence(which, a, b) for a, b in pairwise(bounds)]
        for found in TOKEN_RE.finditer(text):
            sid = first + sum(1 for end in ends if end <= found.start())
            for part in norm_parts(found.group()):
                out.norms.append(part)
                out.starts.append(found.start())
                out.ends.append(found.end())
                out.fields.append(which)
                out.sents.append(sid)
    return out


def assert_same(doc: Document, ref: Reference) -> None:
    assert doc.norms == ref.norms
    assert doc.fields == ref.fields
    assert doc.sents == ref.sents
    assert doc.sentences == ref.sentences
    assert [doc.char_span(i) for i in range(len(ref.norms))] == list(zip(ref.starts, ref.ends, strict=True))
    texts = (doc.title, doc.body)
    assert [doc.surface(i) for i in range(len(ref.norms))] == [
        texts[f][a:b] for f, a, b in zip(ref.fields, ref.starts, ref.ends, strict=True)
    ]
    by_norm: dict[str, list[int]] = {}
    for index, word in enumerate(ref.norms):
        by_norm.setdefault(word, []).append(index)
    assert all(doc.positions(word) == positions for word, positions in by_norm.items())
    assert doc.words() == set(by_norm) and doc.sorted_words() == sorted(by_norm)
    assert doc.prefilter_keys() == {w[:3] for w in by_norm} | {w[:2] for w in by_norm}


# Letters of several scripts, in-word marks (combining accents, soft hyphen, zero-width joiner, Arabic
# vowel marks), letters whose folding splits a token (½ folds to 1, a fraction slash and 2), sentence ends and spacing.
ALPHABET = st.sampled_from(
    list("aeiouAEIOUxyzéñøßıİƏə")
    + list("перемириеЁёїй")
    + list("հրադադար")
    + list("هدنةوقف")
    + ["\u0301", "\u00ad", "\u200d", "\u064e", "½", "ﬁ", "_", "-", "'", "1", "9"]
    + [" ", " ", " ", "\n", "\n\n", "\n \n", ".", ". ", "U.S. ", "J. ", "3.5", "?", "! ", "։ ", ": ", ":", "…", ","]
    + ["\t"]
    + ["。", "！", "？", "؟ ", "\xa0", "\u3000", "۔", '"', "»", ")", "Gen", "gen", "No", "p", "млн", "Inc"]
)
TEXTS = st.lists(ALPHABET, max_size=60).map("".join)


# The sentence rules as regular expressions: a run of marks (or a colon after an Armenian letter), closing
# quotes, then a space or the end; not before a lowercase word, nor after an initial or an abbreviation.
_REF_BOUNDARY = re.compile(r"(?:[.!?։。！？؟…۔]+|(?<=[\u0531-\u0587]):)[\"'\u00bb\u201d\u2019\u203a)\]]*(?=\s|$)")
_REF_WORD = re.compile(r"(\w+)\W{0,8}$")
_REF_ABBREVIATIONS = {"gen", "sen", "etc", "млн", "dr", "inc"}  # some of them
_REF_BEFORE_NUMBER = {"no", "art", "p"}


def reference_sentence_ends(text: str) -> list[int]:
    """Sentence ends found by regular expressions over the text, checked one at a time."""
    ends = {found.end() for found in re.finditer(r"\n\s*\n", text)}
    for found in _REF_BOUNDARY.finditer(text):
        following = text[found.end() :].lstrip()[:1]
        if following.islower():
            continue
        word = _REF_WORD.search(text[: found.start()])
        token = word.group(1).casefold() if word and found.group() == "." else ""
        if (len(token) == 1 and token.isalpha()) or token in _REF_ABBREVIATIONS or (
            following.isdigit() and token in _REF_BEFORE_NUMBER
        ):
            continue
        ends.add(found.end())
    return sorted(ends)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_sentence_ends_match_the_reference(text: str) -> None:
    assert sentence_ends(text) == reference_sentence_ends(text)


@settings(max_examples=300, deadline=None)
@given(TEXTS, TEXTS)
def test_document_matches_the_reference_tokeniser(title: str, body: str) -> None:
    assert_same(Document(title, body), reference(title, body))


def test_tokens_whose_folding_splits_keep_their_place() -> None:
    doc = Document("Half: a½b wins.", "Second sentence. Then x½ again")
    ref = reference(doc.title, doc.body)
    assert doc.norms[1:3] == ["a1", "2b"] and doc.surface(1) == doc.surface(2) == "a½b"
    assert doc.sents == [0, 0, 0, 0, 2, 2, 3, 3, 3, 3]  # the title's final stop leaves it an empty sentence 1
    assert_same(doc, ref)


def test_a_full_fold_cache_starts_over_without_changing_results(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Перемирие нарушено. The Truce held; TRUCES were agreed, café Café"
    expected = reference("", text)
    monkeypatch.setattr(document, "FOLD_CACHE_SIZE", 3)
    document._FOLDED.clear()
    doc = Document("", text)
    assert len(document._FOLDED) <= 3
    assert_same(doc, expected)
    assert doc.positions("truce") == [3] and doc.positions("cafe") == [8, 9] and doc.positions("nothing") == []
