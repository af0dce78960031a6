"""Demo editorial content: a few Dutch psycho-education articles, published and featured; idempotent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatserver.flavours import FlavourCatalog
    from chatserver.services.content import ContentService

DEMO_AUTHOR = "demo-redactie"

ARTICLES: list[dict[str, Any]] = [
    {
        "slug": "wat-is-een-psychose",
        "title": "Wat is een psychose?",
        "category": "psycho-educatie",
        "flavours": ["psychosenet", "mentaal-in-evenwicht"],
        "summary": "Een psychose is een toestand waarin je de werkelijkheid anders beleeft dan de mensen om je heen. "
        "Wat gebeurt er, hoe vaak komt het voor en wat helpt?",
        "body": """Bij een psychose raakt je beleving van de werkelijkheid een tijd uit de pas met die van de mensen \
om je heen. Je hoort of ziet misschien dingen die anderen niet waarnemen, of je raakt overtuigd van iets wat \
voor anderen niet klopt. Voor jezelf voelt het volkomen echt.

### Hoe vaak komt het voor?
Ongeveer drie op de honderd mensen maken ooit een psychose mee, vaak tussen hun vijftiende en dertigste. \
Voor veel mensen blijft het bij één periode.

### Wat kun je merken?
- **Stemmen horen** of dingen zien die er voor anderen niet zijn;
- **wanen**: sterke overtuigingen, bijvoorbeeld dat je gevolgd wordt;
- verwarde gedachten, moeite met concentreren, slecht slapen;
- je terugtrekken, achterdochtig of juist opgejaagd zijn.

### Waardoor ontstaat het?
Meestal door een samenspel van kwetsbaarheid en belasting: langdurige stress, weinig slaap, ingrijpende \
gebeurtenissen en drugs (vooral cannabis) vergroten de kans.

### Wat helpt?
Praten met iemand die je vertrouwt, rust en regelmaat, en op tijd hulp van je huisarts of de ggz. Herstel is \
heel goed mogelijk: veel mensen leren hun signalen kennen en pakken hun leven weer op. Ervaringsverhalen van \
lotgenoten laten zien dat je niet de enige bent.

Maak je je zorgen om iemand anders? Blijf in contact, neem hun beleving serieus zonder mee te gaan in de inhoud, \
en zoek samen hulp.""",
    },
    {
        "slug": "herstel-van-een-eetstoornis-wat-helpt",
        "title": "Herstel van een eetstoornis: wat helpt?",
        "category": "zelfhulp",
        "flavours": ["proud2bme", "jongeren"],
        "summary": "Herstellen van een eetstoornis gaat met ups en downs. Wat mensen die het meemaakten als "
        "steunend ervaren.",
        "body": """Herstel van een eetstoornis is zelden een rechte lijn. Er zijn goede en moeilijke dagen, en \
terugvallen horen er vaak bij. Dat betekent niet dat je opnieuw begint: elke stap telt.

### Wat veel mensen helpt
- **Regelmaat in eten**: drie maaltijden en een paar tussendoortjes geven je lichaam en hoofd rust, ook als \
het eng voelt.
- **Hulp zoeken**: je huisarts kan je verwijzen naar een behandelaar die gespecialiseerd is in eetstoornissen.
- **Praten met lotgenoten** die begrijpen hoe het is, zonder te vergelijken.
- **Vriendelijk zijn voor jezelf**: de kritische stem in je hoofd is niet de waarheid.

### Wat je beter kunt vermijden
Vergelijken met anderen op sociale media, en het noemen van gewicht, calorieën of kledingmaten. Daarom \
staan die getallen ook niet op deze community.

### Voor naasten
Je hoeft het niet op te lossen. Laat merken dat je er bent, praat over meer dan eten, en zorg ook voor jezelf.""",
    },
    {
        "slug": "omgaan-met-piekeren",
        "title": "Omgaan met piekeren",
        "category": "zelfhulp",
        "flavours": ["angst-en-depressie", "mentaal-in-evenwicht"],
        "summary": "Iedereen piekert weleens, maar soms neemt het je hoofd over. Vier oefeningen die je vandaag "
        "kunt proberen.",
        "body": """Piekeren is in kringetjes denken over zorgen, zonder dat je tot een oplossing komt. Het kost \
energie en houdt je 's nachts wakker.

### 1. Plan een piekerkwartier
Spreek met jezelf af dat je elke dag op een vaste tijd een kwartier mag piekeren. Komt er buiten die tijd een \
zorg op, schrijf hem dan op en bewaar hem voor later.

### 2. Schrijf het op
Zet je gedachten op papier. Vraag jezelf: is dit een probleem dat ik kan oplossen? Zo ja: wat is de eerste kleine \
stap? Zo nee: kan ik het even laten rusten?

### 3. Kom in je lijf
Een wandeling, bewust ademhalen (vier tellen in, zes tellen uit) of iets met je handen doen haalt je uit je hoofd.

### 4. Deel het
Zeg hardop waar je over piekert, tegen iemand die je vertrouwt of in de chat. Zorgen worden vaak kleiner als je \
ze uitspreekt.

Blijft het piekeren je dagen beheersen, of slaap je al weken slecht? Bespreek het met je huisarts.""",
    },
    {
        "slug": "burn-out-signalen-en-eerste-stappen",
        "title": "Burn-out: signalen en eerste stappen",
        "category": "psycho-educatie",
        "flavours": ["burn-out-en-werk"],
        "summary": "Een burn-out ontstaat geleidelijk. Herken de signalen op tijd en weet wat je als eerste kunt doen.",
        "body": """Een burn-out ontstaat als je lange tijd meer energie geeft dan je terugkrijgt. Het gaat \
geleidelijk, waardoor je de signalen makkelijk wegredeneert.

### Signalen
- uitgeput wakker worden, ook na een weekend of vakantie;
- snel geïrriteerd of emotioneel zijn;
- moeite met concentreren en onthouden;
- lichamelijke klachten zoals hoofdpijn, hartkloppingen of slecht slapen;
- afstand nemen van werk en mensen die je normaal belangrijk vindt.

### Eerste stappen
1. **Neem het serieus** en praat erover, met iemand thuis, een collega of je leidinggevende.
2. **Ga naar je huisarts of bedrijfsarts.** Zij kunnen meedenken over rust, werk en hulp.
3. **Zorg voor ritme**: vaste tijden voor slapen, eten en bewegen, met echte pauzes.
4. **Verlaag de lat tijdelijk**: wat kan een ander doen, wat kan wachten?

Herstel kost tijd, vaak maanden. Dat is geen zwakte: je lichaam en hoofd vragen om een andere balans.""",
    },
    {
        "slug": "praten-helpt-zo-vind-je-steun",
        "title": "Praten helpt: zo vind je steun",
        "category": "zelfhulp",
        "flavours": [
            "mentaal-in-evenwicht",
            "angst-en-depressie",
            "eenzaamheid",
            "jongeren",
            "psychosenet",
            "proud2bme",
            "burn-out-en-werk",
            "verslaving",
            "trauma",
            "dwang",
        ],
        "summary": "Je hoeft het niet alleen te doen. Waar je terechtkunt, anoniem en zonder wachtlijst.",
        "body": """Als het even niet gaat, lijkt praten soms het laatste waar je zin in hebt. Toch lucht het vaak \
op om je verhaal kwijt te kunnen, bij iemand die luistert zonder te oordelen.

### Waar kun je terecht?
- **In deze community**: lees ervaringsverhalen, praat mee in de chatruimtes of op het forum, of stel je vraag \
anoniem in de VraagBaak.
- **Anoniem 1-op-1 chatten** met een vrijwilliger, ervaringsdeskundige of professional, tijdens de \
openingstijden.
- **Bij je huisarts of de praktijkondersteuner (POH-GGZ)** als je klachten langer aanhouden.

### Hoe begin je?
Je hoeft niet meteen alles te vertellen. Een eerste zin als "het gaat eigenlijk niet zo goed met me" is genoeg.

### Direct hulp nodig?
Denk je aan zelfdoding? Bel **113** of gratis **0800-0113**, of chat via 113.nl. Bij acuut gevaar: bel **112**.""",
    },
]


async def seed_demo_content(content: ContentService, catalog: FlavourCatalog) -> None:
    """Publish the demo articles (skipping slugs that exist) and feature them where nothing is featured yet."""
    repo = content.repo
    known = {f.slug for f in catalog}
    now = content.clock()
    for article in ARTICLES:
        flavours = [f for f in article["flavours"] if f in known]
        if not flavours or await repo.slug_exists(article["slug"]):
            continue
        await repo.insert(_published(article, flavours, now))
    for slug in known:
        if await repo.featured_of(slug):
            continue
        ids = []
        for article in ARTICLES:
            found = await repo.by_slug(article["slug"])
            if found is not None and slug in (found.get("flavours") or ()):
                ids.append(str(found["_id"]))
        await repo.set_featured(slug, ids)


def _published(article: dict[str, Any], flavours: list[str], now: datetime) -> dict[str, Any]:
    return {
        "_id": uuid.uuid4().hex,
        "kind": "article",
        "category": article["category"],
        "title": article["title"],
        "slug": article["slug"],
        "summary": article["summary"],
        "body": article["body"],
        "flavours": flavours,
        "status": "published",
        "publish_at": None,
        "published_at": now,
        "author_id": DEMO_AUTHOR,
        "author_pseudonym": "Redactie",
        "byline": "Redactie",
        "created_at": now,
        "updated_at": now,
        "updated_by": "Redactie",
        "version": 1,
        "reject_reason": "",
        "crisis": False,
    }
