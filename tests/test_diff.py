# ruff: noqa: RUF001  (multilingual test text: Cyrillic and Armenian letters are meant)
"""monitor.diff (sentence splitting, added sentences) and monitor.fingerprint (SimHash fingerprints, their tuning)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import unicodedata

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

from monitor.diff import added_sentences, split_sentences
from monitor.fingerprint import NEAR_DUPLICATE_DISTANCE, bands, fingerprint, from_signed, hamming, to_signed
from tests.testdata import EXTRACTION_CORPUS, REPO, SEED, SEED_BODY, needs

GROUND_TRUTH = EXTRACTION_CORPUS / "ground-truth.json"  # the whole corpus's truths, in ../shared


def _body(page: str) -> str:
    """The article paragraphs of a seed fixture page, one per line (as an extractor gives them)."""
    soup = BeautifulSoup((SEED / page).read_text(encoding="utf-8"), "lxml")
    return "\n".join(p.get_text(" ", strip=True) for p in soup.select(".article-body p"))


def _light_edit(text: str) -> str:
    """A syndicated copy: another outlet's byline on top, and two words changed."""
    edited = text.replace("Tuesday, July 4", "Tuesday July 4", 1).replace("struck", "hit", 1)
    assert edited != text
    return "By Staff Reporter, Agency News Service\n" + edited


# --- sentences


def test_english_sentences_keep_abbreviations_and_initials_together() -> None:
    text = 'Mr. Smith met Gen. Lee on Jan. 5 in the U.S. capital. He said "no." Then J. R. Doe left! Why? See No. 5.'
    assert split_sentences(text) == [
        "Mr. Smith met Gen. Lee on Jan. 5 in the U.S. capital.",
        'He said "no."',
        "Then J. R. Doe left!",
        "Why?",
        "See No. 5.",
    ]


def test_russian_sentences() -> None:
    text = "В. Путин заявил, что перемирие, т.е. прекращение огня, соблюдается. Позже стороны обменялись обвинениями!"
    assert split_sentences(text) == [
        "В. Путин заявил, что перемирие, т.е. прекращение огня, соблюдается.",
        "Позже стороны обменялись обвинениями!",
    ]


def test_armenian_full_stop_and_colon_end_sentences() -> None:
    first = "Ադրբեջանը խախտել է հրադադարի ռեժիմը։"
    second = "Պաշտպանության նախարարությունը հայտնել է այդ մասին:"
    third = "Զոհեր չկան"
    assert split_sentences(f"{first} {second} {third}") == [first, second, third]


def test_colon_ends_a_sentence_only_in_armenian() -> None:
    assert split_sentences("The ministry said: Ceasefire holds.") == ["The ministry said: Ceasefire holds."]


def test_arabic_sentences_split_on_stops_not_on_the_comma() -> None:
    first = "أعلن الجيش وقف إطلاق النار."
    second = "وقال المتحدث، إن الهدنة صامدة؟"
    third = "نعم"
    assert split_sentences(f"{first} {second} {third}") == [first, second, third]


def test_line_breaks_are_boundaries() -> None:
    assert split_sentences("Headline without a stop\n\n  Body starts here. And ends\n") == [
        "Headline without a stop",
        "Body starts here.",
        "And ends",
    ]


def test_lowercase_after_a_stop_is_not_a_new_sentence() -> None:
    assert split_sentences("It ended at 5 p.m. on the border. Calm returned.") == [
        "It ended at 5 p.m. on the border.",
        "Calm returned.",
    ]


def test_a_stop_before_spaces_at_the_end_of_a_line_ends_its_sentence() -> None:
    assert split_sentences("Truce holds. \nTalks go on.\u00a0 ") == ["Truce holds.", "Talks go on."]


@given(st.text())
def test_split_never_loses_words(text: str) -> None:
    assert "".join("".join(split_sentences(text)).split()) == "".join(text.split())


# --- added sentences


def test_border_edit_adds_only_the_violation_sentence() -> None:
    added = added_sentences(_body("border-v1.html"), _body("border-v2.html"))
    assert len(added) == 1
    assert added[0].startswith("Later on Thursday the defense ministry said the ceasefire had been violated")
    assert added[0].endswith("damaged by gunfire.")


def test_whitespace_and_case_changes_add_nothing() -> None:
    old = "The army said the truce held.\nTalks resume on Monday."
    new = "the  army SAID the truce held. Talks resume\ton Monday."
    assert added_sentences(old, new) == []


def test_added_sentences_keep_order_and_appear_once() -> None:
    old = "One. Two."
    new = "Zero. One. Three. Zero. Two. Four."
    assert added_sentences(old, new) == ["Zero.", "Three.", "Four."]


def test_everything_is_added_to_nothing() -> None:
    added = added_sentences("", "Ceasefire violated. Shelling reported.")
    assert added == ["Ceasefire violated.", "Shelling reported."]


# --- fingerprints


def _reference_simhash(text: str) -> int:
    """The textbook SimHash, bit by bit: the fast column-wise version must agree with it."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
    shingles = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)] or ([" ".join(words)] if words else [])
    tally = [0] * 64
    for shingle in shingles:
        h = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            tally[bit] += 1 if h >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if tally[bit] > 0) if shingles else 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ceasefire",
        "ceasefire violated",
        "Azerbaijan violated the ceasefire on the contact line",
        "Ադրբեջանը խախտել է հրադադարի ռեժիմը։ Զոհեր չկան",
        "Режим прекращения огня нарушен. Перемирие под угрозой.",
    ],
)
def test_fingerprint_is_the_textbook_simhash(text: str) -> None:
    assert fingerprint(text) == _reference_simhash(text)


def test_seed_fingerprint_matches_reference() -> None:
    text = SEED_BODY.read_text(encoding="utf-8")
    assert fingerprint(text) == _reference_simhash(text)


def test_fingerprint_is_stable_across_processes() -> None:
    text = SEED_BODY.read_text(encoding="utf-8")
    code = "import sys; from monitor.fingerprint import fingerprint; print(fingerprint(sys.stdin.read()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], input=text, capture_output=True, text=True, env=env, check=True, cwd=REPO
    )
    assert int(out.stdout) == fingerprint(text)


def test_fingerprint_ignores_case_and_punctuation() -> None:
    assert fingerprint("The CEASEFIRE, was violated!") == fingerprint("the ceasefire was violated")


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_signed_round_trip(value: int) -> None:
    signed = to_signed(value)
    assert -(2**63) <= signed < 2**63
    assert from_signed(signed) == value
    assert hamming(signed, value) == 0


@given(st.integers(min_value=0, max_value=2**64 - 1), st.sets(st.integers(0, 63), max_size=5))
def test_fingerprints_up_to_five_bits_apart_share_a_band(value: int, flipped: set[int]) -> None:
    other = value
    for bit in flipped:
        other ^= 1 << bit
    assert any(a == b for a, b in zip(bands(value), bands(other), strict=True))


def test_bands_cover_all_64_bits() -> None:
    """Every bit lands in exactly one band: flipping it changes exactly one band."""
    for bit in range(64):
        changed = [a != b for a, b in zip(bands(0), bands(1 << bit), strict=True)]
        assert changed.count(True) == 1


def test_hamming_counts_differing_bits() -> None:
    assert hamming(0, 0) == 0
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(0, 2**64 - 1) == 64
    assert hamming(to_signed(2**63), 0) == 1


# --- near-duplicate tuning on real text


def test_lightly_edited_copy_is_a_near_duplicate() -> None:
    text = SEED_BODY.read_text(encoding="utf-8")
    assert hamming(fingerprint(text), fingerprint(_light_edit(text))) <= NEAR_DUPLICATE_DISTANCE


def test_same_topic_different_story_is_not_a_near_duplicate() -> None:
    """Both halves of the seed story are about the same ceasefire violations, but are different text."""
    paragraphs = [p for p in SEED_BODY.read_text(encoding="utf-8").split("\n") if p.strip()]
    half = len(paragraphs) // 2
    first, second = "\n".join(paragraphs[:half]), "\n".join(paragraphs[half:])
    assert hamming(fingerprint(first), fingerprint(second)) > NEAR_DUPLICATE_DISTANCE


@needs(GROUND_TRUTH)
def test_real_articles_are_not_near_duplicates_of_each_other() -> None:
    """Over the 180 different real articles of the extraction corpus, no pair is within the distance."""
    bodies = [v["articleBody"] for v in json.loads(GROUND_TRUTH.read_text(encoding="utf-8")).values()]
    prints = [fingerprint(b) for b in bodies if len(b.split()) >= 40]
    assert len(prints) > 100
    closest = min(hamming(a, b) for i, a in enumerate(prints) for b in prints[i + 1 :])
    assert closest > NEAR_DUPLICATE_DISTANCE


@needs(GROUND_TRUTH)
def test_real_articles_lightly_edited_stay_near_duplicates() -> None:
    """A byline line added and two words changed: (nearly) every real article stays within the distance."""
    bodies = [v["articleBody"] for v in json.loads(GROUND_TRUTH.read_text(encoding="utf-8")).values()]
    bodies = [b for b in bodies if len(b.split()) >= 150]
    near = 0
    for body in bodies:
        words = body.split(" ")
        words[len(words) // 3] = "changed"
        words[2 * len(words) // 3] = "altered"
        copy = "By Staff Reporter, Agency News Service\n" + " ".join(words)
        near += hamming(fingerprint(body), fingerprint(copy)) <= NEAR_DUPLICATE_DISTANCE
    assert near / len(bodies) >= 0.98
