# ruff: noqa: RUF001 - multi-script test data
"""The shipped watch list's recall stage (its queries minus its exclusions, no relevance threshold): the
idea of a halt to the fighting in each language's own words, found both ways, and the false friends the
exclusions veto."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.query import Matcher
from monitor.query.document import Document
from monitor.records import WatchList

LIST = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "watchlists" / "ceasefire.yaml").read_text())
MATCHER = Matcher([WatchList(name="ceasefire", queries=tuple(LIST["queries"]), exclude=tuple(LIST["exclude"]))])


def candidate(text: str, language: str) -> bool:
    """Whether a query of the list matches the text and no exclusion vetoes it."""
    outcomes = MATCHER.outcomes(Document("", text, language))
    return any(o.queries and o.excluded_by is None for o in outcomes)


def vetoed(text: str, language: str) -> bool:
    """Whether a query of the list matches the text and an exclusion vetoes it."""
    return any(o.queries and o.excluded_by for o in MATCHER.outcomes(Document("", text, language)))


FOUND = [
    ("en", "The rebels agreed to halt attacks on the capital for a week."),
    ("en", "The guns fell silent along the front line on Sunday morning."),
    ("en", "Russia and Ukraine agreed to a moratorium on strikes on energy infrastructure."),
    ("en", "Both sides agreed to an end to the fighting in Khartoum."),
    ("ru", "Стороны договорились о приостановке ударов по энергетическим объектам."),
    ("ru", "На линии фронта замолчали пушки."),
    ("ru", "Россия объявила режим тишины на время праздников."),
    ("uk", "Сторони домовилися припинити обстріли на Великдень."),
    ("uk", "На фронті оголосили режим тиші."),
    ("uk", "Гуманітарна пауза почалася о шостій ранку."),
    ("hy", "Կողմերը համաձայնեցին դադարեցնել ռազմական գործողությունները։"),
    ("hy", "Սահմանին հաստատվել է լռության ռեժիմ։"),
    ("hy", "Ադրբեջանը խախտել է հրադադարի ռեժիմը։"),
    ("az", "Nazirlik hərbi əməliyyatların dayandırıldığını bildirib."),
    ("az", "Ordu atəşi dayandırdığını açıqlayıb."),
    ("az", "Qəzzada humanitar fasilə elan olunub."),
    ("tr", "Taraflar çatışmaların durdurulması konusunda anlaştı."),
    ("tr", "Taraflar bayram süresince saldırılara ara verdi."),
    ("tr", "Silahlar sustu, sınırda sessizlik hakim."),
    ("fr", "L'armée a suspendu ses bombardements sur le port."),
    ("fr", "Les deux camps ont convenu d'un arrêt des combats."),
    ("fr", "Une pause humanitaire de quatre jours a commencé."),
    ("de", "Die Armee hat die Angriffe auf die Stadt eingestellt."),
    ("de", "Die Waffen schweigen seit Montag an der Front."),
    ("de", "Die Osterwaffenruhe wurde mehrfach gebrochen."),
    ("es", "Israel y Hamás acordaron un alto al fuego de seis semanas."),
    ("es", "El ejército anunció el cese de los bombardeos sobre la ciudad."),
    ("es", "Comenzó una pausa humanitaria de cuatro días."),
    ("ar", "اتفق الطرفان على وقف القتال في الخرطوم."),
    ("ar", "خرق جديد للهدنة في جنوب لبنان."),
    ("ar", "أعلنت الفصائل التزامها بالتهدئة."),
    ("ar", "صمتت المدافع على الجبهة الجنوبية."),
]

NOT_FOUND = [
    ("en", "Police stopped the traffic on the bridge."),
    ("en", "The unions called an end to the strike."),
    ("ru", "Автобус сделал остановку у вокзала."),
    ("uk", "Потяг зупинився на станції."),
    ("hy", "Դպրոցում մեկ րոպե լռություն է հայտարարվել։"),
    ("az", "Avtobus dayanacaqda dayandı."),
    ("tr", "Saldırılar durmaksızın sürüyor."),
    ("tr", "Çocuğun ateşi düştü."),
    ("fr", "Le train a été arrêté en gare."),
    ("de", "Die Verhandlungen wurden unterbrochen."),
    ("es", "La policía detuvo a dos sospechosos de los ataques."),
    ("ar", "قتيل في جريمة إطلاق نار في المدينة."),
    ("ar", "أعلن الوزير موقفه من الحرب."),
]

VETOED = [
    ("en", "The band Cease Fire released a new album and a single."),
    ("en", "The Olympic Truce was adopted by the General Assembly for the Games."),
    ("ru", "Болельщики двух клубов заключили перемирие."),
    ("uk", "США та Китай продовжили торговельне перемир'я ще на 90 днів."),
    ("hy", "Օլիմպիական զինադադարը հաստատվեց ՄԱԿ-ում։"),
    ("tr", "ABD ile Çin tarife ateşkesini uzattı."),
    ("fr", "Le gouvernement prolonge la trêve hivernale des expulsions."),
    ("fr", "La commémoration de l'armistice de 1918 a réuni les anciens combattants."),
    ("de", "Die UN rief zur olympischen Waffenruhe während der Spiele auf."),
    ("es", "El calor da una tregua este fin de semana."),
    ("ar", "هدنة بين جماهير الأهلي والزمالك قبل المباراة."),
]


@pytest.mark.parametrize(("language", "text"), FOUND)
def test_the_idea_is_found_in_each_language(language: str, text: str) -> None:
    assert candidate(text, language)


@pytest.mark.parametrize(("language", "text"), NOT_FOUND)
def test_the_words_alone_are_not_the_idea(language: str, text: str) -> None:
    assert not candidate(text, language)


@pytest.mark.parametrize(("language", "text"), VETOED)
def test_false_friends_are_vetoed(language: str, text: str) -> None:
    assert vetoed(text, language) and not candidate(text, language)
