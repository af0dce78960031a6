"""Demo forum threads (Dutch, realistic, no numbers about bodies) that every flavour gets from ``seed-demo``."""
# ruff: noqa: E501

from __future__ import annotations

# (title, (author, opening post), [(author, reply), ...])
DemoThread = tuple[str, tuple[str, str], list[tuple[str, str]]]

DEMO_THREADS: list[DemoThread] = [
    (
        "Welkom! Stel je hier even voor",
        (
            "Merel",
            "Hoi allemaal, ik ben Merel. Ik lees al een tijdje mee en durf nu eindelijk iets te schrijven. "
            "Fijn dat deze plek er is.\n\nWie wil er ook iets over zichzelf vertellen?",
        ),
        [
            (
                "Zonnebloem",
                "Welkom Merel! Goed dat je de stap zet. Ik ben hier ook nog maar kort, maar het voelt veilig.",
            ),
            ("Vlinder", "Hoi Merel, welkom. Neem rustig de tijd om je thuis te voelen. **Lezen is ook meedoen.**"),
        ],
    ),
    (
        "Hoe kom jij de ochtend door?",
        (
            "Kastanje",
            "De ochtenden zijn voor mij het zwaarst. Ik lig vaak lang wakker en kom dan moeilijk op gang.\n\n"
            "Hebben jullie dingen die helpen? Een vast ritueel, iets kleins om naar uit te kijken?",
        ),
        [
            (
                "Merel",
                "Ik zet mijn wekker aan de andere kant van de kamer en drink meteen een glas water. Klinkt simpel, helpt echt.",
            ),
            ("Duinroos", "Een kort rondje buiten, ook als het regent. Daarna voelt de dag minder groot."),
            (
                "Zonnebloem",
                "> Een kort rondje buiten\n\nDat doe ik ook! En ik schrijf drie dingen op waar ik naar uitkijk.",
            ),
        ],
    ),
    (
        "Praten met familie over hoe het echt gaat",
        (
            "Vlinder",
            "Mijn ouders vragen steeds hoe het gaat en ik zeg altijd *goed*. Eigenlijk wil ik eerlijker zijn, "
            "maar ik weet niet hoe ik moet beginnen.",
        ),
        [
            (
                "Kastanje",
                "Misschien helpt het om het eerst op te schrijven? Ik heb ooit een brief gegeven, dat was makkelijker dan praten.",
            ),
            (
                "Duinroos",
                "Begin klein, bijvoorbeeld: *het gaat niet altijd goed, en ik wil je daar iets over vertellen.* Je hoeft niet alles in één keer te zeggen.",
            ),
        ],
    ),
]
