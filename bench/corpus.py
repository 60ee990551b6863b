#!/usr/bin/env python3
"""A deterministic synthetic content tree for the benchmark.

    python bench/corpus.py OUT_DIR --responses N [--seed 2022]

writes OUT_DIR/content/: site.yaml, units.yaml, one folder per report year with
its report.yaml, and N response files: N/2 Finnish originals and their N/2
Swedish translations, each translation up to date (its source_digest is
sitegen.validate.body_digest of the original's body) and awaiting review. The
tree passes `python build.py check --root OUT_DIR` with no errors or warnings.

Everything comes from `random.Random(seed)` and fixed word lists, and every
collection is walked in a fixed order, so the same arguments always give a
byte-identical tree. The texts are nonsense that looks like the real content:
Finnish and Swedish words, paragraphs of 0.5–3 KB in all, occasional **bold**,
a bullet or numbered list in about a third of the files, https links and links
to other responses of the same year.

`generate(out, responses, seed)` does the same from Python and returns a summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sitegen.load import body_digest  # noqa: E402 (needs the repository root on sys.path)

LAST_YEAR = 2022
"""The newest report year; older years count back from it."""
MAX_YEARS = 10
CHAPTERS = 6
MAX_PER_SECTION = 4
MEAN_PER_SECTION = 2.5
MARKER = ".bench-corpus"
"""A hidden file (ignored by the loader) marking content/ as generated, so a rerun may replace it."""

# -- units ----------------------------------------------------------------------

# (id, fi name, sv name, parent id); parents come before their children.
UNITS: tuple[tuple[str, str, str, str | None], ...] = (
    ("konsernihallinto", "Konsernihallinto", "Koncernförvaltningen", None),
    ("talous-ja-strategia", "Talous ja strategia", "Ekonomi och strategi", "konsernihallinto"),
    ("henkilostoyksikko", "Henkilöstöyksikkö", "Personalenheten", "konsernihallinto"),
    ("tietohallinto", "Tietohallinto", "Dataförvaltningen", "konsernihallinto"),
    ("viestinta", "Viestintä", "Kommunikationen", "konsernihallinto"),
    ("lakiasiat", "Lakiasiat", "Juridiska ärenden", "konsernihallinto"),
    ("hankintapalvelut", "Hankintapalvelut", "Upphandlingstjänsterna", "konsernihallinto"),
    ("elinvoiman-tulosalue", "Elinvoiman tulosalue", "Resultatområdet för livskraft", None),
    ("tyollisyyspalvelut", "Työllisyyspalvelut", "Sysselsättningstjänsterna", "elinvoiman-tulosalue"),
    ("liikuntapalvelut", "Liikuntapalvelut", "Idrottstjänsterna", "elinvoiman-tulosalue"),
    ("kulttuuripalvelut", "Kulttuuripalvelut", "Kulturtjänsterna", "elinvoiman-tulosalue"),
    ("nuorisopalvelut", "Nuorisopalvelut", "Ungdomstjänsterna", "elinvoiman-tulosalue"),
    ("elinkeinot-ja-kilpailukyky", "Elinkeinot ja kilpailukyky", "Näringsliv och konkurrenskraft",
     "elinvoiman-tulosalue"),
    ("kasvun-ja-oppimisen-toimiala", "Kasvun ja oppimisen toimiala", "Sektorn för fostran och lärande", None),
    ("varhaiskasvatus", "Varhaiskasvatus", "Småbarnspedagogiken", "kasvun-ja-oppimisen-toimiala"),
    ("suomenkielinen-opetus", "Suomenkielinen opetus", "Finskspråkig undervisning", "kasvun-ja-oppimisen-toimiala"),
    ("ruotsinkieliset-sivistyspalvelut", "Ruotsinkieliset sivistyspalvelut", "Svenska bildningstjänster",
     "kasvun-ja-oppimisen-toimiala"),
    ("toisen-asteen-koulutus", "Toisen asteen koulutus", "Utbildning på andra stadiet",
     "kasvun-ja-oppimisen-toimiala"),
    ("kasvun-tuki", "Kasvun tuki", "Stöd för uppväxten", "kasvun-ja-oppimisen-toimiala"),
    ("kaupunkiympariston-toimiala", "Kaupunkiympäristön toimiala", "Stadsmiljösektorn", None),
    ("tilapalvelut-liikelaitos", "Tilapalvelut-liikelaitos", "Affärsverket Esbo lokaler",
     "kaupunkiympariston-toimiala"),
    ("kaupunkisuunnittelukeskus", "Kaupunkisuunnittelukeskus", "Stadsplaneringscentralen",
     "kaupunkiympariston-toimiala"),
    ("kaupunkitekniikan-keskus", "Kaupunkitekniikan keskus", "Stadstekniska centralen", "kaupunkiympariston-toimiala"),
    ("rakennusvalvonta", "Rakennusvalvonta", "Byggnadstillsynen", "kaupunkiympariston-toimiala"),
    ("ymparistokeskus", "Ympäristökeskus", "Miljöcentralen", "kaupunkiympariston-toimiala"),
    ("hyvinvoinnin-ja-terveyden-toimiala", "Hyvinvoinnin ja terveyden toimiala", "Sektorn för välfärd och hälsa",
     None),
    ("vanhusten-palvelut", "Vanhusten palvelut", "Äldreomsorgen", "hyvinvoinnin-ja-terveyden-toimiala"),
    ("perhe-ja-sosiaalipalvelut", "Perhe- ja sosiaalipalvelut", "Familje- och socialtjänster",
     "hyvinvoinnin-ja-terveyden-toimiala"),
    ("terveyspalvelut", "Terveyspalvelut", "Hälsovårdstjänsterna", "hyvinvoinnin-ja-terveyden-toimiala"),
    ("mielenterveys-ja-paihdepalvelut", "Mielenterveys- ja päihdepalvelut", "Mentalvårds- och missbrukartjänster",
     "hyvinvoinnin-ja-terveyden-toimiala"),
)
UNIT_IDS = [u[0] for u in UNITS]
UNIT_NAMES = {u[0]: {"fi": u[1], "sv": u[2]} for u in UNITS}

# -- report structure ---------------------------------------------------------------

CHAPTER_TITLES = (
    ("Espoo-tarinan toteuttaminen", "Förverkligandet av Berättelsen om Esbo"),
    ("Kaupungin ja konsernin talouden arviointi", "Utvärdering av stadens och koncernens ekonomi"),
    ("Elinvoiman tulosalueen palvelujen arviointi", "Utvärdering av tjänsterna inom resultatområdet för livskraft"),
    ("Kasvun ja oppimisen toimialan palvelujen arviointi",
     "Utvärdering av tjänsterna inom sektorn för fostran och lärande"),
    ("Hyvinvoinnin ja terveyden palvelujen arviointi", "Utvärdering av tjänsterna inom välfärd och hälsa"),
    ("Kaupunkiympäristön toimialan palvelujen arviointi", "Utvärdering av tjänsterna inom stadsmiljösektorn"),
    ("Konserni", "Koncernen"),
    ("Henkilöstö ja johtaminen", "Personal och ledarskap"),
    ("Tietohallinto ja digitalisaatio", "Dataförvaltning och digitalisering"),
    ("Sisäinen valvonta ja riskienhallinta", "Intern kontroll och riskhantering"),
)
# Section titles: a Finnish modifier before a head noun; in Swedish the head comes first.
TITLE_MODIFIERS = (
    ("Lasten ja nuorten", "för barn och unga"), ("Kaupungin", "i staden"),
    ("Ikäihmisten", "för äldre"), ("Maahanmuuttajien", "för invandrare"),
    ("Koulujen ja päiväkotien", "i skolor och daghem"), ("Toimialojen", "inom sektorerna"),
    ("Kaupunkikonsernin", "inom stadskoncernen"), ("Asukkaiden", "för invånarna"),
    ("Henkilöstön", "för personalen"), ("Tytäryhteisöjen", "i dottersammanslutningarna"),
    ("Kaupunginosien", "i stadsdelarna"), ("Yritysten", "för företagen"),
    ("Vieraskielisten", "för främmandespråkiga"), ("Työikäisten", "för personer i arbetsför ålder"),
    ("Tilahankkeiden", "i lokalprojekten"),
)
TITLE_HEADS = (
    ("hyvinvointi", "välfärden"), ("palvelujen saatavuus", "tillgången till tjänster"),
    ("talouden seuranta", "uppföljningen av ekonomin"), ("investoinnit", "investeringarna"),
    ("sisäilman laatu", "inomhusluftens kvalitet"), ("digitaaliset palvelut", "de digitala tjänsterna"),
    ("työllisyyden edistäminen", "främjandet av sysselsättningen"), ("osallisuus", "delaktigheten"),
    ("kunnossapito", "underhållet"), ("hankinnat", "upphandlingarna"), ("riskienhallinta", "riskhanteringen"),
    ("tavoitteiden toteutuminen", "måluppfyllelsen"), ("kehitysohjelmat", "utvecklingsprogrammen"),
    ("henkilöstöresurssit", "personalresurserna"), ("ohjaus ja valvonta", "styrningen och tillsynen"),
)

# -- words ------------------------------------------------------------------------

FI_FUNCTION = (
    "ja sekä on ovat myös että jotta joka jossa joiden kanssa mm. esimerkiksi lisäksi osalta aikana "
    "kautta edelleen tällä hetkellä tulee voidaan ei ole kuitenkin yhdessä eri kaikilla uusi uuden vuoden "
    "kaupungin Espoon tämän niiden sen jo vielä erityisesti muun muassa"
).split()
FI_CONTENT = (
    "toimiala toimialan kaupunki palveluja palvelujen asiakkaiden henkilöstön tavoitteena kehitetään "
    "seurataan arvioidaan toteutetaan käynnistetty valmistellaan edistetään vahvistetaan yksikön yksiköt "
    "johtoryhmä johtoryhmässä valtuustolle lautakunnan suosituksen mukaisesti tarkastuslautakunta "
    "arviointikertomuksessa toimenpiteitä toimenpiteet tulokset tuloksia resursseja määrärahat talousarvion "
    "talousarviossa sopimus sopimuksen yhteistyössä kumppaneiden asukkaiden lasten nuorten ikäihmisten "
    "maahanmuuttajien kouluissa päiväkodeissa alueella alueilla tilanne tilannetta merkittävästi "
    "säännöllisesti olennaisesti tarkemmin aiempaa parhaillaan jatkuvasti vuosittain puolivuosittain "
    "keskeisiä keskeisten tärkeää tarpeellista mahdollista kehittämistä kehittämiseen seurantaa ohjausta "
    "raportointia arviointia painopisteet ohjelma ohjelmassa strategian Espoo-tarinan mukaisia tietoa "
    "tiedon prosessit prosessien laatua kustannuksia investointien hankinnat hankintojen kilpailutus "
    "toteutuminen toteutumista vaikuttavuutta saavutettavuutta työryhmä työryhmän selvitys selvityksen "
    "perusteella huomioidaan varmistetaan tunnistettu kartoitettu laadittu päivitetty ohjeistus ohjeistusta"
).split()
FI_COMPOUND_FIRST = (
    "palvelu kehittämis henkilöstö talous toiminta asiakas hanke tieto ohjaus yhteistyö arviointi seuranta "
    "kaupunki digi hyvinvointi oppimis työllisyys ympäristö rakennus sisäilma investointi riski laatu "
    "raportointi"
).split()
FI_COMPOUND_SECOND = (
    "mallin mallia suunnitelman prosessissa ryhmän järjestelmän toimenpiteitä ohjelman työtä tarpeet "
    "tavoitteet resurssit kustannukset vaikutukset käytännöt"
).split()
FI_YEARS = ("vuonna 2023", "v. 2024", "vuoden 2023 aikana", "syksyllä 2023", "keväällä 2024")

SV_FUNCTION = (
    "och samt är har också att så för som där vars med bland annat till exempel dessutom när under genom "
    "fortfarande för närvarande ska kan inte dock tillsammans olika alla ny nya året stadens Esbo denna "
    "deras den redan ännu särskilt i på av om vid"
).split()
SV_CONTENT = (
    "sektorn sektorns staden tjänster tjänsternas kundernas personalens målet utvecklas följs utvärderas "
    "genomförs inletts bereds främjas stärks enhetens enheterna ledningsgruppen ledningsgruppen "
    "fullmäktige nämndens rekommendationen enligt revisionsnämnden utvärderingsberättelsen åtgärder "
    "åtgärderna resultaten resultat resurser anslagen budgeten budgeten avtalet avtal samarbete partnernas "
    "invånarnas barnens ungas äldres invandrarnas skolorna daghemmen området områdena läget situationen "
    "betydligt regelbundet väsentligt noggrannare tidigare för närvarande kontinuerligt årligen halvårsvis "
    "centrala viktigt nödvändigt möjligt utvecklingen uppföljningen styrningen rapporteringen bedömningen "
    "prioriteringarna programmet strategin Berättelsen om Esbo information uppgifter processerna kvaliteten "
    "kostnaderna investeringarna upphandlingarna konkurrensutsättningen genomslaget tillgängligheten "
    "arbetsgruppen utredningen utifrån beaktas säkerställs identifierats kartlagts utarbetats uppdaterats "
    "anvisningarna"
).split()
SV_COMPOUND_FIRST = (
    "tjänste utvecklings personal ekonomi verksamhets kund projekt informations styrnings samarbets "
    "utvärderings uppföljnings stads digital välfärds inlärnings sysselsättnings miljö bygg inomhusluft "
    "investerings risk kvalitets rapporterings"
).split()
SV_COMPOUND_SECOND = (
    "modellen planen processen gruppen systemet åtgärderna programmet arbetet behoven målen resurserna "
    "kostnaderna effekterna rutinerna"
).split()
SV_YEARS = ("år 2023", "2024", "under 2023", "hösten 2023", "våren 2024")


WORD_SHARES = (0.35, 0.45, 0.17, 0.03)
"""How often a word is a function word, a content word, a compound or a date (compounds are long)."""


def _vocabulary(*groups: list[str] | tuple[str, ...]) -> list[str]:
    """The words, each repeated so that the groups have about their WORD_SHARES of a text.

    Repetition rather than weights: Random.choices without weights is twice as fast.
    """
    words: list[str] = []
    for group, share in zip(groups, WORD_SHARES, strict=True):
        repeat = max(1, round(share / len(group) * 2000))
        words += [word for word in group for _ in range(repeat)]
    return words


def _bytes_per_word(words: list[str]) -> float:
    """The mean bytes a word takes in a text, with its space."""
    return sum(len(w.encode("utf-8")) + 1 for w in words) / len(words)


VOCAB = {
    "fi": _vocabulary(FI_FUNCTION, FI_CONTENT, [a + b for a in FI_COMPOUND_FIRST for b in FI_COMPOUND_SECOND],
                      FI_YEARS),
    "sv": _vocabulary(SV_FUNCTION, SV_CONTENT, [a + b for a in SV_COMPOUND_FIRST for b in SV_COMPOUND_SECOND],
                      SV_YEARS),
}
FI_BYTES_PER_WORD = _bytes_per_word(VOCAB["fi"])
SV_WORD_FACTOR = 1.07 * FI_BYTES_PER_WORD / _bytes_per_word(VOCAB["sv"])
"""Words in a Swedish sentence per word of its Finnish original: the real translations are 7 % longer in bytes."""
SECTION_WORD = {"fi": "kohta", "sv": "avsnitt"}
URL_PATHS = (
    "kaupunki-ja-paatoksenteko", "talous-ja-strategia", "tyo-ja-yrittaminen", "kasvatus-ja-opetus",
    "sosiaali-ja-terveyspalvelut", "asuminen-ja-ymparisto", "kulttuuri-ja-vapaa-aika", "tilastot-ja-tutkimus",
    "osallistu-ja-vaikuta", "espoo-tarina",
)
URL_HOSTS = ("https://www.espoo.fi", "https://www.hsy.fi", "https://stat.fi", "https://www.kuntaliitto.fi")


# -- helpers -------------------------------------------------------------------------


def slugify(name: str) -> str:
    """A URL slug: lower case ASCII, å/ä → a, ö → o, everything else between words a hyphen."""
    text = name.lower().translate(str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e"}))
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


_PLAIN = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ0-9 .()'-]*")
_YAML_WORDS = {"yes", "no", "true", "false", "null", "on", "off", "y", "n", "~"}


def scalar(text: str) -> str:
    """A YAML scalar: plain when that is unambiguous (also inside a flow mapping), else double-quoted."""
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS and not text.endswith(" "):
        return text
    return json.dumps(text, ensure_ascii=False)


def allocate(rng: random.Random, total: int, parts: int, spread: float = 0.3) -> list[int]:
    """Split `total` into `parts` whole numbers, each about total/parts (±spread), at least 1 when possible."""
    if parts <= 0:
        return []
    base = 1 if total >= parts else 0
    rest = total - base * parts
    weights = [rng.uniform(1 - spread, 1 + spread) for _ in range(parts)]
    scale = rest / sum(weights)
    shares = [w * scale for w in weights]
    counts = [int(s) for s in shares]
    left = rest - sum(counts)
    by_fraction = sorted(range(parts), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in by_fraction[:left]:
        counts[i] += 1
    return [base + c for c in counts]


def number_of_years(pairs: int) -> int:
    """1 year for a handful of responses, 2–3 for 50, 6 for 500, 10 from 5 000 on."""
    if pairs <= 1:
        return 1
    return max(1, min(MAX_YEARS, pairs, round(3.75 * math.log10(pairs) - 3.87)))


# -- the report of one year ------------------------------------------------------------


def headings(rng: random.Random, below_chapters: int) -> list[str]:
    """Section numbers for 6 chapters with `below_chapters` headings two or three levels deep.

    Numbers have occasional gaps, as in the real report (1.1 and 2.2 had nothing to answer).
    """
    for _ in range(100):  # redraw until some heading is three levels deep (when there are two to nest)
        numbers = _headings(rng, below_chapters)
        if below_chapters < 2 or any(n.count(".") == 2 for n in numbers):
            break
    return numbers


def _headings(rng: random.Random, below_chapters: int) -> list[str]:
    numbers: list[str] = []
    for chapter, count in enumerate(allocate(rng, below_chapters, CHAPTERS, spread=0.5), start=1):
        numbers.append(str(chapter))
        n2 = 0
        while count > 0:
            n2 += 2 if rng.random() < 0.1 else 1
            numbers.append(f"{chapter}.{n2}")
            count -= 1
            if count >= 1 and rng.random() < 0.25:
                n3 = 0
                for _ in range(min(count, rng.randint(1, 3))):
                    n3 += 2 if rng.random() < 0.08 else 1
                    numbers.append(f"{chapter}.{n2}.{n3}")
                    count -= 1
    return numbers


def section_title(rng: random.Random) -> tuple[str, str]:
    mod_fi, mod_sv = rng.choice(TITLE_MODIFIERS)
    head_fi, head_sv = rng.choice(TITLE_HEADS)
    return f"{mod_fi} {head_fi}", f"{head_sv[0].upper()}{head_sv[1:]} {mod_sv}"


def report_yaml(year: int, published: dt.date, numbers: list[str], titles: dict[str, tuple[str, str]],
                seed: int) -> str:
    lines = [
        f"# A synthetic report for the benchmark, written by bench/corpus.py (seed {seed}).",
        f"year: {year}",
        "title:",
        f"  fi: {scalar(f'Vastaukset vuoden {year} arviointikertomuksessa esitettyihin suosituksiin')}",
        f"  sv: {scalar(f'Svar på rekommendationerna i utvärderingsberättelsen för {year}')}",
        "committee:",
        "  fi: Tarkastuslautakunta",
        "  sv: Revisionsnämnden",
        f'published: "{published.isoformat()}"',
        "evaluation_report:",
        "  url: https://www.espoo.fi/arviointikertomus",
        "  title:",
        f"    fi: {scalar(f'Tarkastuslautakunnan arviointikertomus vuodelta {year}')}",
        f"    sv: {scalar(f'Revisionsnämndens utvärderingsberättelse för {year}')}",
        "sections:",
    ]
    for number in numbers:
        fi, sv = titles[number]
        lines += [f'  - number: "{number}"', "    title:", f"      fi: {scalar(fi)}", f"      sv: {scalar(sv)}"]
    return "\n".join(lines) + "\n"


# -- bodies --------------------------------------------------------------------------------

# A body is planned once as blocks of sentence specs, then written in both languages,
# so that the Swedish translation has the shape of its Finnish original.
# sentence spec: [finnish word count, bold (position 0–1, length) or None, links, end]
# link: (position 0–1, ("rel", section, unit) | ("url", host, path))


def plan_body(rng: random.Random, target: int) -> list[tuple[str, list[list]]]:
    """Blocks ("p" | "ul" | "ol", sentence specs) whose Finnish text is about `target` characters."""
    list_kind = None
    if rng.random() < 1 / 3:
        list_kind = "ul" if rng.random() < 0.65 else "ol"
    list_after = 1 if rng.random() < 0.7 else 2
    blocks: list[tuple[str, list[list]]] = []
    length = 0.0
    paragraphs = 0
    done = False
    while not done:
        sentences: list[list] = []
        for _ in range(rng.randint(2, 5)):
            n = rng.randint(6, 16)
            bold = (rng.random(), rng.randint(1, 3)) if rng.random() < 0.04 else None
            sentences.append([n, bold, [], "."])
            length += n * FI_BYTES_PER_WORD
            if length >= target and (list_kind is None or paragraphs >= list_after):
                done = True
                break
        blocks.append(("p", sentences))
        paragraphs += 1
        if list_kind is not None and paragraphs == list_after:
            sentences[-1][3] = ":"
            items = [[rng.randint(4, 14), None, [], "."] for _ in range(rng.randint(3, 7))]
            length += sum(item[0] for item in items) * FI_BYTES_PER_WORD
            blocks.append((list_kind, items))
            done = length >= target
    return blocks


def add_links(rng: random.Random, blocks: list[tuple[str, list[list]]], links: list[tuple]) -> None:
    """Put each link at a random place in a random paragraph sentence."""
    sentences = [s for kind, block in blocks if kind == "p" for s in block]
    for link in links:
        rng.choice(sentences)[2].append((rng.random(), link))


def write_body(rng: random.Random, blocks: list[tuple[str, list[list]]], lang: str) -> str:
    vocab = VOCAB[lang]
    factor = 1.0 if lang == "fi" else SV_WORD_FACTOR
    out: list[str] = []
    for kind, block in blocks:
        texts = [sentence(rng, vocab, spec, factor, lang) for spec in block]
        if kind == "p":
            out.append(" ".join(texts))
        elif kind == "ul":
            out.append("\n".join(f"- {t}" for t in texts))
        else:
            out.append("\n".join(f"{i}. {t}" for i, t in enumerate(texts, start=1)))
    return "\n\n".join(out)


def sentence(rng: random.Random, vocab: list[str], spec: list, factor: float,
             lang: str) -> str:
    n, bold, links, end = spec
    n = max(3, round(n * factor))
    words = rng.choices(vocab, k=n)
    words[0] = words[0][0].upper() + words[0][1:]
    if bold is not None:
        start = min(int(bold[0] * n), n - 1)
        stop = min(start + bold[1], n) - 1
        words[start] = "**" + words[start]
        words[stop] += "**"
    for position, link in sorted(links, key=lambda pl: -pl[0]):
        if link[0] == "rel":
            _, section, unit = link
            token = f"[{UNIT_NAMES[unit][lang]}, {SECTION_WORD[lang]} {section}]({section}-{unit}.{lang}.md)"
        else:
            _, host, path = link
            text = " ".join(rng.choices(vocab, k=rng.randint(2, 3)))
            url = f"{host}/{lang}/{path}" if host == URL_HOSTS[0] else f"{host}/{path}"
            token = f"[{text}]({url})"
        words.insert(max(1, int(position * n)), token)
    return " ".join(words) + end


# -- the tree ----------------------------------------------------------------------------------


def _write(path: Path, text: str) -> int:
    data = text.encode("utf-8")
    path.write_bytes(data)
    return len(data)


def _prepare(content: Path) -> None:
    """An empty content/ folder; an earlier generated one is replaced, anything else is refused."""
    if content.exists():
        if not (content / MARKER).is_file():
            if any(content.iterdir()):
                raise SystemExit(f"{content} exists and was not made by bench/corpus.py; choose an empty folder")
        else:
            shutil.rmtree(content)
    content.mkdir(parents=True, exist_ok=True)
    (content / MARKER).write_text("generated by bench/corpus.py; safe to delete\n", encoding="utf-8")


def generate(out: Path, responses: int, seed: int = 2022, years: int | None = None) -> dict:
    """Write out/content/ with `responses` files (half fi, half sv); returns a summary.

    `years` fixes the number of report years (1: every response in one year, the
    worst case for a rebuild that works per year); by default it grows with N.
    """
    if responses < 0 or responses % 2:
        raise ValueError(f"--responses must be an even number ≥ 0, not {responses}")
    rng = random.Random(seed)
    out = Path(out)
    content = out / "content"
    _prepare(content)
    written = 0

    written += _write(content / "site.yaml", (
        "# Settings of a synthetic site for the benchmark, written by bench/corpus.py.\n"
        "base_url: https://www.espoo.fi/arviointikertomus/\n"
        "languages:\n"
        "  - code: fi\n"
        "    locale: fi_FI\n"
        "  - code: sv\n"
        "    locale: sv_FI\n"))

    slugs: dict[str, set[str]] = {"fi": set(), "sv": set()}
    lines = ["# Synthetic responding units for the benchmark, written by bench/corpus.py.", "units:"]
    for uid, fi, sv, parent in UNITS:
        slug = {"fi": slugify(fi), "sv": slugify(sv)}
        for lang, s in slug.items():
            assert s not in slugs[lang], f"duplicate {lang} slug {s}"
            slugs[lang].add(s)
        lines += [f"  - id: {uid}",
                  f"    name: {{fi: {scalar(fi)}, sv: {scalar(sv)}}}",
                  f"    slug: {{fi: {slug['fi']}, sv: {slug['sv']}}}"]
        if parent is not None:
            lines.append(f"    parent: {parent}")
        lines.append("")
    written += _write(content / "units.yaml", "\n".join(lines))
    # The accessibility statement is site data, not generated: the repository's own.
    written += _write(content / "accessibility.yaml",
                      (Path(__file__).resolve().parent.parent / "content" / "accessibility.yaml").read_text("utf-8"))

    pairs = responses // 2
    n_years = number_of_years(pairs) if years is None else max(1, years)
    years = list(range(LAST_YEAR - n_years + 1, LAST_YEAR + 1))
    per_year = allocate(rng, pairs, n_years, spread=0.2)
    summary_years: dict[str, dict[str, int]] = {}
    total_headings = total_answered = files = 0

    for year, count in zip(years, per_year, strict=True):
        folder = content / str(year)
        folder.mkdir()
        published = dt.date(year + 1, 6, rng.randint(10, 28))

        # Sections: enough answered ones for 1–4 responses each, and some headings with none.
        answered_n = math.ceil(count / MEAN_PER_SECTION) if count else 0
        unanswered_n = max(1, round(answered_n * 0.15))
        numbers = headings(rng, answered_n + unanswered_n)
        below = [n for n in numbers if "." in n]
        skip = set(rng.sample(range(len(below)), unanswered_n))
        answered = [n for i, n in enumerate(below) if i not in skip]
        chapter_titles = rng.sample(CHAPTER_TITLES, CHAPTERS)
        titles = {n: chapter_titles[int(n) - 1] if "." not in n else section_title(rng) for n in numbers}
        written += _write(folder / "report.yaml", report_yaml(year, published, numbers, titles, seed))

        # Responses per section: 1 each, the rest spread at random up to 4.
        sizes = [1] * len(answered)
        open_ = list(range(len(answered)))
        for _ in range(count - len(answered)):
            i = rng.randrange(len(open_))
            sizes[open_[i]] += 1
            if sizes[open_[i]] == MAX_PER_SECTION:
                open_.pop(i)

        plan: list[tuple[str, str, dict[str, object]]] = []
        for number, size in zip(answered, sizes, strict=True):
            units = rng.sample(UNIT_IDS, size)
            weighted = size > 1 and rng.random() < 0.2
            for position, unit in enumerate(units, start=1):
                meta: dict[str, object] = {}
                if weighted:
                    meta["weight"] = position
                if rng.random() < 0.1:
                    meta["updated"] = (published + dt.timedelta(days=rng.randint(20, 500))).isoformat()
                plan.append((number, unit, meta))

        for index, (number, unit, meta) in enumerate(plan):
            target = min(2300, max(600, int(rng.gauss(1350, 550))))
            blocks = plan_body(rng, target)
            links: list[tuple] = []
            if rng.random() < 0.3:
                links.append(("url", rng.choice(URL_HOSTS), rng.choice(URL_PATHS)))
            if len(plan) > 1 and rng.random() < 0.25:
                other = rng.randrange(len(plan) - 1)
                other += other >= index
                links.append(("rel", plan[other][0], plan[other][1]))
            add_links(rng, blocks, links)
            fi_body = write_body(rng, blocks, "fi")
            sv_body = write_body(rng, blocks, "sv")

            stem = f"{number}-{unit}"
            front = ["---", f'section: "{number}"', f"unit: {unit}"]
            if "weight" in meta:
                front.append(f"weight: {meta['weight']}")
            if "updated" in meta:
                front.append(f'updated: "{meta["updated"]}"')
            written += _write(folder / f"{stem}.fi.md", "\n".join(front + ["---", "", fi_body, ""]))
            front += [f"translation_of: {stem}.fi.md", f"source_digest: {body_digest(fi_body)}", "reviewed: false"]
            written += _write(folder / f"{stem}.sv.md", "\n".join(front + ["---", "", sv_body, ""]))
            files += 2

        total_headings += len(numbers)
        total_answered += len(answered)
        summary_years[str(year)] = {"sections": len(numbers), "answered": len(answered), "responses": 2 * count}

    return {
        "seed": seed,
        "years": years,
        "sections": total_headings,
        "answered_sections": total_answered,
        "units": len(UNITS),
        "files": files,
        "bytes": written,
        "per_year": summary_years,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a deterministic synthetic content tree for the benchmark.")
    p.add_argument("out", type=Path, help="the project folder to write content/ into")
    p.add_argument("--responses", type=int, required=True, metavar="N",
                   help="total number of response files, half Finnish and half Swedish (even)")
    p.add_argument("--seed", type=int, default=2022, help="the random seed (default 2022)")
    p.add_argument("--years", type=int, default=None, help="number of report years (default: grows with N)")
    args = p.parse_args(argv)
    if args.responses < 0 or args.responses % 2:
        p.error("--responses must be an even number ≥ 0")
    started = time.perf_counter()
    summary = generate(args.out, args.responses, args.seed, args.years)
    elapsed = time.perf_counter() - started
    brief = {k: v for k, v in summary.items() if k != "per_year"}
    print(json.dumps(brief, ensure_ascii=False))
    print(f"wrote {summary['files']} response files to {args.out / 'content'} in {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
