# ruff: noqa: RUF001 - the lexicons are deliberately multi-script
"""Context lexicons: the words around a mention that tell a ceasefire story from a passing mention.

Each lexicon is an OR query in the watch-list language (so it folds and inflects like one), with the
words of every supported language written from that language's usage: the course of a ceasefire
(violated, extended, agreed ...), dating and background words (since, after, anniversary ...), armed
conflict, markets and the economy, and the other senses of truce words (sport, politics, labour,
trade, culture, weather, crime). Words are prefixes (``viol*``) where the language inflects by
suffix. The relevance features (monitor.query.features) count where their hits stand.
"""

from __future__ import annotations

from monitor.query.document import Document, Memo
from monitor.query.evaluator import evaluate, matches_word, stem_start
from monitor.query.language import base_language
from monitor.query.nodes import Or, Prefix, Query, Term
from monitor.query.parser import parse
from monitor.query.prefilter import QueryIndex
from monitor.query.text import script_of

LANGUAGES = ("ar", "az", "de", "en", "es", "fr", "hy", "ru", "tr", "uk")  # the languages the lexicons are written in
SAME_WORDS = {"pt": "es"}  # a language read with another's words (the Spanish lists hold the Portuguese ones)
START_KEY = 3  # lexicon words are filed under the first letters of the start every word they match shares
KNOWN_WORDS = 200_000  # words whose lexicons are remembered, over all languages (it starts over when full)
_HITS: Memo[str, set[int]] = Memo("lexicon hits by lexicon name")
_WORD_HITS: Memo[int, list[set[int]]] = Memo("single-word lexicon hits, by lexicon number")
_LEXICONS: list[Lexicon] = []  # every lexicon made, in order: lexicon n is bit n of a word's mask
_KNOWN: dict[str | None, dict[str, int]] = {}  # language -> folded word -> the mask of the lexicons it is a word of


class _Group:
    """One language's words of a lexicon (or all of them): its parts, its phrases indexed, its single
    words and prefixes filed by start."""

    def __init__(self, words: list[str]) -> None:
        node = parse(" OR ".join(words)) if words else Or(())
        self.parts = node.parts if isinstance(node, Or) else (node,)
        self.phrases = [p for p in self.parts if not isinstance(p, Term | Prefix)]
        self.index = QueryIndex()
        for phrase in self.phrases:
            self.index.add(phrase)
        self.by_start: dict[str, list[Term | Prefix]] = {}
        for part in self.parts:
            if isinstance(part, Term | Prefix):
                start = stem_start(part.text) if isinstance(part, Term) else part.text
                self.by_start.setdefault(start[:START_KEY] or script_of(part.text), []).append(part)


class Lexicon:
    """A context word list (an OR query per language) whose hits are computed once per document.

    A document in one of LANGUAGES is read with that language's words only (a French "parti" is not
    the English "parties", a Turkish "faiz" not the Azerbaijani "faiz", percent); one in another
    language or in none, with all of them. Single words and prefixes are looked up word by
    word, for every lexicon at once: which lexicons a folded word is a word of (or an inflection of
    one, in the document's language) is kept across documents per language, so a document costs a
    look-up per distinct word and one pass over its tokens, whatever the number of lexicons.
    Phrases are evaluated as queries.
    """

    def __init__(self, name: str, words: dict[str, list[str]]) -> None:
        unknown = set(words).difference(LANGUAGES)
        if unknown:
            raise ValueError(f"lexicon {name!r}: no such lexicon language: {', '.join(sorted(unknown))}")
        self.name = name
        self._words = words
        self._groups: dict[str, _Group] = {}  # by language ("" for all of them), parsed on first use
        self._number = len(_LEXICONS)
        _LEXICONS.append(self)
        _KNOWN.clear()  # the masks known so far lack this lexicon's bit

    @property
    def parts(self) -> tuple[Query, ...]:
        """The parts of every language."""
        return self._group(None).parts

    def parts_for(self, language: str | None) -> tuple[Query, ...]:
        """The parts that read a document in ``language``."""
        return self._group(language).parts

    def _group(self, language: str | None) -> _Group:
        base = base_language(language) if language else ""
        key = SAME_WORDS.get(base, base)
        key = key if key in LANGUAGES else ""
        group = self._groups.get(key)
        if group is None:
            words = self._words.get(key, []) if key else [w for group in self._words.values() for w in group]
            group = self._groups[key] = _Group(words)
        return group

    def hits(self, doc: Document) -> set[int]:
        """First token indices of this lexicon's words in ``doc``."""
        memo = doc.memo(_HITS)
        cached = memo.get(self.name)
        if cached is None:
            group = self._group(doc.language)
            cached = set(_word_hits(doc)[self._number])
            found = (evaluate(group.phrases[n], doc) for n in group.index.candidates(doc))
            cached.update(first for spans in found for first, _ in spans or [])
            memo[self.name] = cached
        return cached


def _word_hits(doc: Document) -> list[set[int]]:
    """Per lexicon (by number), the token indices of ``doc`` that are one of its single words or prefixes."""
    memo = doc.memo(_WORD_HITS)
    cached = memo.get(len(_LEXICONS))
    if cached is not None:
        return cached
    known = _KNOWN.setdefault(doc.language, {})
    new = [word for word in doc.words() if word not in known]
    if new and sum(map(len, _KNOWN.values())) + len(new) > KNOWN_WORDS:
        _KNOWN.clear()
        known = _KNOWN.setdefault(doc.language, {})
        new = list(doc.words())
    if new:
        groups = [lexicon._group(doc.language) for lexicon in _LEXICONS]
        for word in new:
            known[word] = sum(1 << n for n, group in enumerate(groups) if _holds(group, doc, word))
    cached = [set() for _ in _LEXICONS]
    for index, word in enumerate(doc.norms):
        mask = known[word]
        while mask:
            low = mask & -mask
            cached[low.bit_length() - 1].add(index)
            mask ^= low
    memo[len(_LEXICONS)] = cached
    return cached


def _holds(group: _Group, doc: Document, word: str) -> bool:
    """Whether a folded word matches one of the group's single words or prefixes (as evaluate matches)."""
    starts = (*(word[:size] for size in range(1, START_KEY + 1)), script_of(word))  # no start: by script
    parts = (p for start in starts for p in group.by_start.get(start, ()))
    return any(matches_word(p, word, doc.stem_lang(script_of(p.text))) for p in parts)


def _words(**groups: str) -> dict[str, list[str]]:
    """Lexicon entries by language from whitespace-separated words; `_` joins the words of a phrase."""
    return {
        language: [f'"{w.replace("_", " ")}"' if "_" in w else w for w in group.split()]
        for language, group in groups.items()
    }


# A ceasefire broken: violated, breached, collapsed, fighting resumed, accusations.
VIOLATION = Lexicon(
    "violation",
    _words(
        en="viol* breach* collapse* undermin* broke_down resum* accus* despite",
        ru="наруш* срыв* сорв* обвин* возобнов* несмотря вопреки",
        uk="поруш* звинува* віднов* незважаючи попри всупереч",
        hy="խախտ* մեղադր* վերսկս* չնայած",
        az="pozu* pozar* pozdu* pozub* pozma* pozul* ittiham* təxribat* baxmayaraq",
        tr="ihlal* suçla* bozul* yeniden_başla* rağmen",
        ar="خرق* انتهاك* الخروقات خروقات الانتهاكات انتهاكات انهيار رغم",
        # not violence
        fr="violation* viole violee violes violees violer violait violaient rompu* accus* repris* malgre",
        de="verletz* verstoss* bruch gebrochen gescheitert scheiter* beschuldig* vorgeworfen trotz",
        es="violo violac* viola* rompi* quebrant* acus* a_pesar apesar",
    ),
)

# The course of a ceasefire: proposed, negotiated, agreed, announced, in force, observed, extended,
# expired, rejected, monitored.
COURSE = Lexicon(
    "course",
    _words(
        en="respect respected respecting respects prolong prolonged accord extend extended extending extension"
        " expire expires expired expiring implement* observe observing propos* negotiat* broker* mediat*"
        " demand* request* urge urged urges call_for calls_for called_for press_for push_for rule_out"
        " ruled_out ruling_out refus* reject* welcom* comply obligations strain persist seek seeking reach"
        " reached pressure monitor* agree agreed agrees announce announced declare declared signed talks"
        " took_effect into_effect in_force holding holds fragile truce_deal",
        ru="продл* переговор* предлож* соглас* договор* призв* объяв* вступ* подпис* соблюд* достиг* заключ* хрупк*",
        uk="вступ* набу* продовж* домовл* домовил* пропози* пропону* оголос* дотрим* підпис* переговор* укла* досягн*",
        hy="պահպան* համաձայն* հայտարար* բանակց* առաջարկ* երկարաձգ* ստորագր* մերժ* կոչ* ուժի_մեջ",
        az="razılaş* elan riayət* müzakir* təklif* uzad* imzala* rədd* çağır* qüvvəyə",
        tr="anlaş* ilan* müzakere* öneri* teklif* uzat* imzala* reddet* çağrı* yürürlüğe sağlan*",
        ar="تمديد اتفاق الاتفاق اتفاقية أعلن إعلان مفاوضات المفاوضات اقتراح مقترح المقترح دعا دعوة يدعو رفض"
        " توقيع سريان التوصل صمود وساطة الوسطاء حيز_التنفيذ",
        fr="declar* mediation mediateur* expiration refus* demande* respect* prolong* annonc* negoci* accord"
        " propos* rejet* signe* conclu* menac* fragile appel* entre_en_vigueur en_vigueur",
        de="appell* verlanger* vereinbar* einhalt* eingehalten verhandl* ausgehandelt vorgeschlagen vorschlag*"
        " forder* gefordert abgelehnt unterzeichn* bruchig vermittel* in_kraft",
        es="declar* prolong* monitoreo extension demand* respet* anunci* acuerdo acord* prorrog* negoci* pact*"
        " propuest* propon* rechaz* firm* fragil mediac* vigor vigente",
    ),
)

# The news of the day: today, yesterday, tonight, the days of the week.
NOW = Lexicon(
    "now",
    _words(
        en="today tonight yesterday monday tuesday wednesday thursday friday saturday sunday overnight",
        ru="сегодня вчера ночью понедельник* вторник* среду среда четверг* пятниц* суббот* воскресень*",
        uk="сьогодні вчора вночі понеділ* вівтор* середу середа четвер* субот* неділ*",
        hy="այսօր երեկ գիշերը երկուշաբթի* երեքշաբթի* չորեքշաբթի* հինգշաբթի* ուրբաթ* կիրակի*",
        az="bugün bu_gün dünən gecə bazar_ertəsi bazar_günü çərşənbə* cümə* şənbə*",
        tr="bugün dün gece pazartesi* salı* çarşamba* perşembe* cuma* cumartesi* pazar_günü",
        ar="اليوم أمس الليلة الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت الأحد",
        fr="hier lundi mardi mercredi jeudi vendredi samedi dimanche cette_nuit",
        de="heute gestern nacht montag* dienstag* mittwoch* donnerstag* freitag* samstag* sonntag*",
        es="hoy ayer anoche lunes martes miercoles jueves viernes sabado domingo hoje ontem",
    ),
)

# A mention dated or framed by time, written before it (prepositions) ...
BACKGROUND = Lexicon(
    "background",
    _words(
        en="since before after following during amid announcement ago anniversary",
        ru="после с_момента со_времени во_время годовщин*",
        uk="після з_моменту з_часу під_час річниц*",
        fr="depuis apres avant pendant lors anniversaire",
        de="seit nach vor wahrend jahrestag*",
        es="desde tras antes durante despues aniversario apos",
        ar="بعد منذ قبل خلال إثر عقب ذكرى",
    ),
)
# ... or after it (postpositions: Armenian, Azerbaijani, Turkish), or naming an age.
BACKGROUND_AFTER = Lexicon(
    "background-after",
    _words(
        hy="հետո ի_վեր ընթացքում տարեդարձ* առաջ անց",
        az="sonra sonrası bəri əvvəl zamanı ildönüm* ərzində ardınca ardından",
        tr="sonra sonrası beri önce sırasında yıldönüm* boyunca ardından",
        en="ago",
        ru="назад",
        uk="тому",
    ),
)

# A span of years, after a number: "for 30 years", "vor 69 Jahren", "26 il ərzində".
YEARS = Lexicon(
    "years",
    _words(
        en="year years decade decades",
        ru="год года лет десятилет*",
        uk="рік роки років десятиліт*",
        hy="տարի*",
        az="il ildir ildən ilin illik",
        tr="yıl*",
        ar="عام عاما أعوام سنة سنوات سنين عقود",
        fr="an ans annee annees decennie*",
        de="jahr jahre jahren jahrzehnt*",
        es="ano anos decada decadas",
    ),
)

# The war as a whole, as what a halt or an end applies to: "stop the war" is not a truce by the labelling
# rules ("talks to end the war" with no halt to fighting is conflict news), "stop the fighting" can be.
# Not Arabic: Arabic news names the halt itself so ("اتفاق وقف الحرب", the agreement to stop the war).
WAR = Lexicon(
    "war",
    _words(
        en="war wars",
        ru="войн*",
        uk="війн*",
        hy="պատերազմ*",
        az="müharibə*",
        tr="savaş*",
        fr="guerre guerres",
        de="krieg*",
        es="guerra guerras",
    ),
)

# Armed conflict: forces, weapons, fighting, casualties, territory.
CONFLICT = Lexicon(
    "conflict",
    _words(
        en="militant guerrilla* war wars military troops army armies soldiers militants rebels insurgents"
        " militia* hostilities airstrike* air_strike air_strikes shelling shelled artillery killed fighters"
        " invasion occupation frontline front_line missile* drone* rocket* mortar* bombard* clashes clashed"
        " offensive combat battle* casualties wounded armed_forces gunfire strikes",
        ru="войн* военн* арми* войск* солдат* боев* боевик* обстрел* артиллер* ракет* дрон* беспилотник* убит*"
        " погиб* ранен* наступлен* атак* фронт* оккупац* вторжен* удар* столкновен* минометн*",
        uk="війн* військ* армі* солдат* бойов* бойовик* обстріл* артилері* ракет* дрон* безпілотник* загинул*"
        " загибел* поранен* наступальн* наступу атак* фронт* окупац* вторгнен* удар* зіткнен* мінометн*",
        hy="պատերազմ* զինվոր* բանակ* զորք* հրետան* ականանետ* դիրքեր* հարձակ* զոհ* վիրավոր* ռազմական* գնդակոծ*"
        " անօդաչու* կրակոց* ռազմաճակատ*",
        az="öldürül* yaralı* müharib* hərbi ordu* əsgər* qoşun* artilleriya* minaatan* mövqe* hücum* həlak*"
        " yaralan* döyüş* silah* pilotsuz* cəbhə* işğal* təxribat* atəş_açıb atəş_açılıb",
        tr="silah* yaralan* savaş* askeri asker* ordu* topçu* havan* saldırı* öldürül* yaralı* çatışma*"
        " silahlı* insansız* cephe* işgal* füze* roket* bombardıman* militan* operasyon*",
        ar="حرب الحرب حربا العسكري* عسكري* الجيش جيش قوات القوات جنود الجنود القصف قصف غارة غارات الغارات"
        " صواريخ صاروخ الصواريخ مسيرة مسيرات قتلى القتلى قتيل شهداء الشهداء جرحى اشتباكات الاشتباكات المعارك"
        " معارك هجوم الهجوم هجمات الاحتلال مقاتلين المقاتلين الفصائل مدفعية المدفعية القتال",
        fr="armes guerre* militaire* armee* troupes soldats combat* frappe* bombard* artillerie tirs missile*"
        " roquette* drone* tues morts blesses offensive attaque* front occupation invasion milice* rebelles"
        " insurges hostilites affrontements",
        de="militant* bombardier* krieg* militar* armee truppen soldaten kampf* kampfe angriff* luftangriff*"
        " beschuss artillerie rakete* drohne* getotet* tote toten verletzt* offensive front* besatzung*"
        " invasion miliz* rebellen gefecht* streitkrafte feindseligkeiten",
        es="guerra* militar* ejercito tropas soldados combate* ataque* bombarde* artilleria misil* cohete*"
        " dron* muertos heridos ofensiva ocupacion invasion milicia* rebeldes insurgentes hostilidades"
        " enfrentamientos guerrilla* exercito mortos feridos",
    ),
)

# Markets and the economy: a story whose own topic they are names a ceasefire as a market driver.
ECONOMY = Lexicon(
    "economy",
    _words(
        # quoted: exact, so that "shared" and "rated" are not "shares" and "rates" through the stemmer
        en='petroleum investor oil crude brent prices price stocks "shares" investors markets market yields bonds'
        ' inflation earnings fuel diesel gasoline petrol barrel barrels energy economy economic tax "rates"'
        " futures rally trading traders refinery refiners supply supplies fertiliser fertilizer airlines"
        " cargo tanker tankers shipping",
        ru="нефть нефти цены цен рынок рынки рынка биржа биржи акции экономика экономики экономическ* инвестор* инфляц*"
        " баррел* ввп центробанк* экспорт* валют* рубл* экономист*",
        uk="нафт* ціни цін ринок ринки ринку біржа біржі акції економік* економічн* інвестор* інфляц* барел* ввп нбу"
        " експорт* валют* гривн* економіст*",
        hy="նավթ* շուկա* տնտես* բորսա* ինֆլյացիա* գներ* գնաճ* ՀՆԱ կենտրոնական_բանկ* տոկոսադրույք* արտահանում*"
        " փոխարժեք*",
        az="neft* qiymət* bazarlar* bazarı bazarın* bazarda* bazara* bazardan* birja* iqtisad* investor*"
        " inflyasiya* manat* ÜDM mərkəzi_bank* ixrac* valyuta*",
        tr="petrol* fiyat* piyasa* borsa* hisse* ekonomi* yatırımcı* enflasyon* faiz* dolar* merkez_bankası büyüme"
        " ihracat* döviz* GSYH",
        ar="النفط نفط الأسعار أسعار الأسواق السوق البورصة الأسهم الاقتصاد اقتصادي* الاقتصادي الاقتصادية المستثمرين"
        " التضخم برميل الذهب البنك_المركزي الفائدة الصادرات العملة الناتج_المحلي",
        fr="brent petrolier* petrole prix marches marche bourse actions economie economique* investisseurs"
        " inflation baril banque_centrale taux croissance exportations pib devises economistes",
        de="brent fluggesellschaft* olpreis* preis* preise markt* borse* aktie* wirtschaft* anleger inflation barrel"
        " notenbank* zentralbank* leitzins* zins* konjunktur* wachstum* export* bip okonom* wahrung*",
        es="crudo brent dolares petroleo precio* mercado* bolsa acciones economia economic* inversor* inflacion"
        " barril precos banco_central tipos_de_interes crecimiento exportaciones pib divisas economistas",
    ),
)

# The other senses of truce words: sport, domestic politics, labour, trade, business, culture,
# weather, crime and celebrations (gunfire at weddings), and family or personal feuds.
OTHER_SENSE = Lexicon(
    "other-sense",
    _words(
        # quoted: exact, so that "concerted" and "celebrate" are not "concert" and "celebrity"
        en="football soccer fans club clubs league olympic* athletes tournament band album song songs film"
        ' movie "concert" "concerts" festival parliament election* lawmakers opposition coalition budget trade_union'
        ' labor_union labour_union layoffs employees tariff* company companies shareholders lawsuit "celebrity"'
        ' "celebrities" feud rivalry weather heat rain police crime wedding',
        ru="футбол* болельщик* фанат* клуб* матч* олимпи* спортсмен* альбом* песн* фильм* концерт* фестивал*"
        " партия партии партий партию партией депутат* фракци* выбор* оппозиц* коалиц* бюджет* профсоюз* торгов*"
        " пошлин* тариф* компани* погода погоды полици* свадьб*",
        uk="торговельн* футбол* вболівальник* уболівальник* фанат* клуб* матч* олімпі* спортсмен* альбом* пісн*"
        " фільм* концерт* фестивал* парті* депутат* фракці* вибор* опозиці* коаліці* бюджет* профспіл*"
        " торгів* мито мита тариф* компані* спека спеку поліці* весілл*",
        hy="ֆուտբոլ* երկրպագու* ակումբ* օլիմպիական* ալբոմ* երգ* ֆիլմ* համերգ* փառատոն* կուսակց* պատգամավոր*"
        " ընտրությ* ընդդիմությ* խորհրդարան* բյուջե* առևտր* մաքս* ոստիկան* հարսանիք*",
        az="futbol* azarkeş* klub* olimpiya* albom* mahnı* film* konsert* festival* partiya* deputat* seçki*"
        " müxalifət* parlament* büdcə* ticarət* tarif* gömrük* şirkət* hava_şərait* polis* toy*",
        tr="futbol* taraftar* kulüp* maç* olimpiyat* albüm* şarkı* film* konser* festival* parti* milletvekil*"
        " seçim* muhalefet* meclis* bütçe* ticaret* tarife* gümrük* şirket* polis* düğün* hava_durumu",
        ar="مباراة المباراة الجماهير مشجعي النادي الدوري الأولمبية الأولمبي ألبوم أغنية فيلم حفل مهرجان الأحزاب"
        " البرلمان الانتخابات المعارضة الموازنة التجارة التجارية الجمركية الشركة شركة جريمة"
        " الجريمة الشرطة عصابة عرس الأفراح احتفالات الطقس",
        fr="football supporters club* match* olympique* jeux athletes album* chanson* film* concert* festival*"
        ' "parti" "partis" deputes elections opposition coalition budget* syndicat* syndical* salaries licenciement*'
        " greve* commerce* commercial* tarif* douane* entreprise* hivernale confiseurs expulsion* locataires"
        " meteo chaleur police",
        de="fussball* fans verein vereins vereine olympisch* athleten band album* lied* song* film* konzert*"
        " festival* partei* abgeordnete* wahl* opposition koalition* haushalt* gewerkschaft* streik* zoll*"
        " zolle handelsstreit* handelskrieg* unternehmen burgfrieden wetter hitze polizei",
        es="futbol* aficion* hinchas club* olimpic* album* cancion* pelicula* concierto* festival* congreso"
        " diputados elecciones oposicion coalicion presupuesto* sindicato* sindical* huelga* comercial*"
        " arancel* aduana* empresa* calor frio lluvia* temperaturas clima policia futebol torcedores clube*"
        " eleicoes greve*",
    ),
)
