# ruff: noqa: RUF001, RUF003 - multi-script test data
"""Context lexicons hit their words (in each language's forms: the economy's adjective as well as its noun) and
not another word that shares a stem or a prefix with them."""

from __future__ import annotations

import pytest

from monitor.query.document import Document
from monitor.query.lexicons import BACKGROUND_AFTER, ECONOMY, OTHER_SENSE, VIOLATION, Lexicon

CASES = [
    # (lexicon, language, text, the words it must find, the words it must not)
    (OTHER_SENSE, "fr", "Le parti socialiste et les partis de droite. Les deux parties ont prolongé la trêve.",
     {"parti", "partis"}, {"parties"}),
    (OTHER_SENSE, "ru", "Партия выиграла выборы. Партизаны атаковали колонну.", {"партия", "выборы"}, {"партизаны"}),
    (OTHER_SENSE, "ar", "فاز الأحزاب في الانتخابات. وقال حزب الله إن الهدنة صامدة.", {"الانتخابات"}, {"حزب"}),
    (OTHER_SENSE, "en", "The band gave a concert. Mediators made a concerted effort; crowds celebrate the truce.",
     {"band", "concert"}, {"concerted", "celebrate"}),
    (ECONOMY, "en", "Oil shares fell as rates rose. Both sides shared a rated list of demands.",
     {"oil", "shares", "rates"}, {"shared", "rated"}),
    (ECONOMY, "ru", "Экономическое давление на экономику растёт.", {"экономическое", "экономику"}, set()),
    (ECONOMY, "uk", "Економічний тиск на економіку зростає.", {"економічний", "економіку"}, set()),
    (ECONOMY, "ar", "يرى محللون أن الضغط الاقتصادي يتزايد على الاقتصاد.", {"الاقتصادي", "الاقتصاد"}, set()),
    (VIOLATION, "fr", "Le cessez-le-feu a été violé hier. La violence a continué.", {"viole"}, {"violence"}),
    # strikes despite a truce, in each language's word for "despite" (English had it alone)
    (VIOLATION, "ru", "Удары продолжились, несмотря на перемирие.", {"несмотря"}, set()),
    (VIOLATION, "de", "Trotz der Waffenruhe gingen die Angriffe weiter.", {"trotz"}, set()),
    (VIOLATION, "es", "Los ataques siguieron a pesar de la tregua.", {"a"}, {"pesar"}),
    (VIOLATION, "tr", "Ateşkese rağmen saldırılar sürdü.", {"ragmen"}, set()),
    # Turkish and Azerbaijani "after": a postposition (ateşkes haberlerinin ardından)
    (BACKGROUND_AFTER, "tr", "Ateşkes haberlerinin ardından uçuşlar başladı.", {"ardindan"}, set()),
    # a central bank's decision, in the languages whose market words were oil and prices only
    (ECONOMY, "de", "Die Notenbank ließ den Leitzins unverändert; Ökonomen erwarten mehr Wachstum.",
     {"notenbank", "leitzins", "okonomen", "wachstum"}, set()),
    (ECONOMY, "fr", "La banque centrale a relevé ses taux; la croissance ralentit.", {"banque", "taux", "croissance"},
     set()),
    (ECONOMY, "es", "El banco central subió los tipos de interés; el crecimiento se frena.", {"banco", "crecimiento"},
     set()),
    (ECONOMY, "tr", "Merkez Bankası faizi sabit tuttu; büyüme ve ihracat yavaşladı.", {"merkez", "buyume", "ihracat"},
     set()),
    (ECONOMY, "ar", "أبقى البنك المركزي على الفائدة وتراجعت الصادرات.", {"البنك", "الفائدة", "الصادرات"}, set()),
]


@pytest.mark.parametrize(("lexicon", "lang", "text", "found", "not_found"), CASES,
                         ids=[f"{c[0].name}-{c[1]}" for c in CASES])
def test_a_lexicon_finds_its_words_and_not_their_look_alikes(
    lexicon: Lexicon, lang: str, text: str, found: set[str], not_found: set[str]
) -> None:
    doc = Document("", text, lang)
    hits = {doc.norms[i] for i in lexicon.hits(doc)}
    assert found <= hits and not (not_found & hits), hits
