# ruff: noqa: RUF001 - sentences in ten languages
"""Language per item: a document's hint unless its text is clearly in another language."""

from __future__ import annotations

import json
import lzma
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from monitor.query import language
from monitor.query.document import Document
from monitor.query.evaluator import evaluate
from monitor.query.parser import parse
from tests.testdata import SHARED, over

SENTENCES = {
    "en": "The ceasefire agreed last week between the two countries was broken overnight, the defence ministry said.",
    "fr": "Le cessez-le-feu conclu la semaine dernière entre les deux pays a été violé dans la nuit de samedi à "
    "dimanche, selon le ministère de la Défense.",
    "de": "Die Waffenruhe zwischen den Konfliktparteien wurde in der Nacht erneut gebrochen, teilte das "
    "Verteidigungsministerium mit; die Lage bleibe äußerst angespannt.",
    "es": "El alto el fuego acordado entre las partes fue violado anoche, según informó el Ministerio de Defensa.",
    "pt": "O cessar-fogo acordado entre as partes foi violado durante a noite, segundo o Ministério da Defesa.",
    "it": "Il cessate il fuoco concordato tra le parti è stato violato durante la notte, ha comunicato il ministero.",
    "tr": "Taraflar arasında varılan ateşkes anlaşması dün gece yapılan saldırılarla ihlal edildi, yetkililer "
    "açıkladı.",
    "az": "Ermənistan silahlı qüvvələri atəşkəs rejimini pozaraq Azərbaycan Ordusunun mövqelərini atəşə tutub.",
    "ru": "Стороны конфликта договорились о прекращении огня, однако уже ночью перемирие было нарушено, сообщили в "
    "министерстве обороны.",
    "uk": "Перемир'я, оголошене минулого тижня, було порушене вночі: окупанти обстріляли позиції українських "
    "військових поблизу Авдіївки, повідомили у Генштабі.",
    "hy": "Ադրբեջանական զինուժը խախտել է հրադադարի ռեժիմը՝ կրակ բացելով հայկական դիրքերի ուղղությամբ։",
    "ar": "أعلنت الأطراف المتحاربة عن هدنة إنسانية لمدة ثلاثة أيام تبدأ صباح الغد في جميع أنحاء البلاد.",
}


def test_the_model_ships_with_the_package_and_knows_every_language() -> None:
    assert set(language.LANGUAGES) <= set(language._identifier().nb_classes)


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_without_a_hint_the_language_is_detected(lang: str) -> None:
    assert Document("", SENTENCES[lang]).language == lang


def test_a_french_text_hinted_english_is_french() -> None:
    doc = Document("", SENTENCES["fr"], "en")
    assert doc.hint == "en" and doc.language == "fr" and doc.stem_lang("latin") == "fr"


def test_a_ukrainian_text_hinted_russian_is_ukrainian() -> None:
    assert Document("", SENTENCES["uk"], "ru").language == "uk"


def test_a_hint_the_text_agrees_with_is_kept_as_given() -> None:
    assert Document("Ceasefire broken", SENTENCES["en"], "en-GB").language == "en-GB"
    assert Document("", SENTENCES["az"], "az").language == "az"  # not Turkish


@pytest.mark.parametrize(
    ("title", "body", "hint"),
    [
        ("Ceasefire", "", "fr"),  # one word
        ("Hamas and Israel", "", "de"),  # names
        ("Trêve à Gaza", "", "en"),  # French, but too short to overrule the feed
        ("停火协议在加沙生效，双方交换人质。", "以色列和哈马斯的停火协议周日生效。", "zh"),  # not one of the list
    ],
)
def test_a_short_or_unclear_text_keeps_its_hint(title: str, body: str, hint: str) -> None:
    assert Document(title, body, hint).language == hint
    assert Document(title, body).language is None


def test_each_item_of_a_multilingual_feed_gets_its_own_language() -> None:
    feed = [Document("", text, "en") for text in SENTENCES.values()]
    assert [doc.language for doc in feed] == list(SENTENCES)


def test_a_hinted_text_in_the_hints_letters_keeps_it_without_loading_the_model() -> None:
    language._identifier.cache_clear()
    assert Document("", SENTENCES["en"], "en").language == "en"
    assert Document("", SENTENCES["ru"], "ru").language == "ru"
    assert language._identifier.cache_info().currsize == 0  # no model loaded for them
    # the limit of that shortcut: German without umlauts or ß in its start reads as the hint says
    plain_german = "Die Waffenruhe wurde in der Nacht erneut gebrochen, teilte das Verteidigungsministerium mit."
    assert Document("", plain_german, "en").language == "en"
    assert Document("", plain_german).language == "de"


def test_detection_reads_the_start_of_a_long_text() -> None:
    german = " ".join([SENTENCES["de"]] * 5)
    assert len(german) > language.SAMPLE_CHARS
    assert language.detect(german + " " + SENTENCES["en"] * 50) == "de"
    assert language.detect(SENTENCES["en"] * 50 + german) == "en"


FRENCH = "Selon le ministère de la Défense, les deux armées violaient la trêve chaque nuit depuis samedi."


def test_the_detected_language_picks_the_stemmer() -> None:
    """French "violer" and "violaient" share a French stem (viol), not an English one."""
    doc = Document("", FRENCH, "en")
    assert doc.stem_lang("latin") == "fr"
    assert evaluate(parse("violer"), doc) is not None


def test_without_detection_the_wrong_hint_would_stand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(language, "CONFIDENCE", 1.01)  # never sure
    doc = Document("", FRENCH, "en")
    assert doc.language == "en" and evaluate(parse("violer"), doc) is None


# -- the cached, trimmed model classifies as py3langid does -----------------------------------------------

DEV_SETS = [SHARED / "corpora" / name for name in ("ceasefire-dev.jsonl", "ceasefire-dev2.jsonl")]


@pytest.fixture(scope="module")
def reference() -> LanguageIdentifier:
    """py3langid's own identifier, loaded its own way and restricted to LANGUAGES."""
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(language.LANGUAGES)
    return identifier


@pytest.fixture
def empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A fresh user cache directory, and no identifier loaded before or left after the test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    language._identifier.cache_clear()
    yield tmp_path / "ceasefire-monitor"
    language._identifier.cache_clear()


@pytest.mark.parametrize("path", over(DEV_SETS, SHARED / "corpora"), ids=lambda path: getattr(path, "name", None))
def test_the_corpora_classify_exactly_as_py3langid(path: Path, reference: LanguageIdentifier) -> None:
    identifier = language._identifier()
    texts = [f"{item['title']} {item['text']}" for item in map(json.loads, path.read_text().splitlines())]
    for text in texts:
        for sample in (text[: language.CONFIRM_CHARS], text[: language.SAMPLE_CHARS], text):
            assert identifier.classify(sample) == reference.classify(sample)


LETTERS = "".join(sorted(set("".join(SENTENCES.values())))) + "ąłżšđøåæœß中文ह"


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(LETTERS) | st.characters(codec="utf-8"), max_size=400))
def test_generated_texts_classify_exactly_as_py3langid(reference: LanguageIdentifier, text: str) -> None:
    assert language._identifier().classify(text) == reference.classify(text)


def test_the_trimmed_model_is_cached_once_and_read_back(empty_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert language.detect(SENTENCES["hy"]) == "hy"
    [cached] = empty_cache.iterdir()
    assert sorted(path.name for path in cached.iterdir()) == sorted(f"{name}.npy" for name in language._FILES)
    language._identifier.cache_clear()

    def no_build(*_: object) -> None:
        raise AssertionError("the cached model was built again")

    monkeypatch.setattr(language, "_build", no_build)
    assert language.detect(SENTENCES["uk"]) == "uk"


def test_another_model_file_gets_its_own_cache(empty_cache: Path, tmp_path: Path) -> None:
    other = tmp_path / "model.npz.xz"
    shutil.copyfile(MODEL_DIR / MODEL_FILE, other)
    language._model(MODEL_DIR / MODEL_FILE)
    with other.open("ab") as model:
        model.write(lzma.compress(b""))  # an empty second xz stream: the same model, another checksum
    language._model(other)
    assert len(list(empty_cache.iterdir())) == 2


def test_an_unwritable_cache_builds_the_model_for_the_process(empty_cache: Path, reference: LanguageIdentifier) -> None:
    empty_cache.parent.mkdir(parents=True, exist_ok=True)
    empty_cache.write_text("a file where the cache directory should be")
    assert language.detect(SENTENCES["ar"]) == "ar"
    sample = SENTENCES["fr"] + SENTENCES["de"]
    assert language._identifier().classify(sample) == reference.classify(sample)


def test_a_process_that_loses_the_race_to_publish_keeps_the_other_copy(empty_cache: Path) -> None:
    source = MODEL_DIR / MODEL_FILE
    language._model(source)
    [cached] = empty_cache.iterdir()
    language._publish(source, cached)  # another process built it meanwhile: no error, no leftovers
    assert list(empty_cache.iterdir()) == [cached]
