"""The Dutch municipalities with their province and GGD region (``gemeenten.csv``, CBS data; its header names the
source and the year), read and checked once at start-up: a broken file stops the server with one line."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from chatserver.domain.markt import Gemeente, RegionIndex

GEMEENTEN_FILE = Path(__file__).with_name("gemeenten.csv")
COLUMNS = ("gemeentecode", "gemeente", "provincie", "ggd_code", "ggd_regio")
PROVINCES = frozenset({"Groningen", "Friesland", "Drenthe", "Overijssel", "Flevoland", "Gelderland", "Utrecht",
                       "Noord-Holland", "Zuid-Holland", "Zeeland", "Noord-Brabant", "Limburg"})  # fmt: skip
GM_CODE = re.compile(r"^GM\d{4}$")
GG_CODE = re.compile(r"^GG\d{4}$")
MIN_GEMEENTEN = 300  # the Netherlands has had more than 300 municipalities in every year since 1800


class RegionDataError(ValueError):
    """The municipality file is missing, malformed or inconsistent."""


def _source_line(lines: list[str]) -> str:
    """The first comment line: what the file is and which year it describes."""
    for line in lines:
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def _row(number: int, row: dict[str, str]) -> Gemeente:
    values = {k: (row.get(k) or "").strip() for k in COLUMNS}
    where = f"gemeenten.csv regel {number}"
    if not GM_CODE.match(values["gemeentecode"]):
        raise RegionDataError(f"{where}: gemeentecode {values['gemeentecode']!r} is geen GMxxxx")
    if not values["gemeente"]:
        raise RegionDataError(f"{where}: de naam van de gemeente ontbreekt")
    if values["provincie"] not in PROVINCES:
        raise RegionDataError(f"{where}: onbekende provincie {values['provincie']!r}")
    if not GG_CODE.match(values["ggd_code"]) or not values["ggd_regio"]:
        raise RegionDataError(f"{where}: GGD-regio ontbreekt of heeft geen GGxxxx-code")
    return Gemeente(values["gemeentecode"], values["gemeente"], values["provincie"], values["ggd_code"],
                    values["ggd_regio"])  # fmt: skip


def check(gemeenten: list[Gemeente]) -> None:
    """Whole-file rules: unique codes and names, one name per GGD code, each GGD region within one province."""
    if len(gemeenten) < MIN_GEMEENTEN:
        raise RegionDataError(f"gemeenten.csv heeft maar {len(gemeenten)} gemeenten; verwacht minstens {MIN_GEMEENTEN}")
    codes = [g.code for g in gemeenten]
    if len(set(codes)) != len(codes):
        raise RegionDataError("gemeenten.csv: een gemeentecode staat er twee keer in")
    if len({g.name for g in gemeenten}) != len(gemeenten):
        raise RegionDataError("gemeenten.csv: een gemeentenaam staat er twee keer in")
    ggd_name: dict[str, str] = {}
    ggd_province: dict[str, str] = {}
    for g in gemeenten:
        if ggd_name.setdefault(g.ggd_code, g.ggd_name) != g.ggd_name:
            raise RegionDataError(f"gemeenten.csv: GGD-code {g.ggd_code} heeft twee namen")
        if ggd_province.setdefault(g.ggd_code, g.province) != g.province:
            raise RegionDataError(f"gemeenten.csv: GGD-regio {g.ggd_name} ligt in twee provincies")
    if set(ggd_province.values()) != PROVINCES:
        raise RegionDataError("gemeenten.csv: niet elke provincie heeft gemeenten")


def load_regions(path: Path = GEMEENTEN_FILE) -> RegionIndex:
    """Read and check the file; raises :class:`RegionDataError` naming the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegionDataError(f"{path.name} kan niet gelezen worden ({type(exc).__name__})") from exc
    lines = text.splitlines()
    data = [line for line in lines if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(data)
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise RegionDataError(f"gemeenten.csv: kolommen moeten {', '.join(COLUMNS)} zijn")
    gemeenten = [_row(n, row) for n, row in enumerate(reader, start=2)]
    check(gemeenten)
    return RegionIndex.build(gemeenten, source=_source_line(lines))
