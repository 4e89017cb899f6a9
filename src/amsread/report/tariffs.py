"""Norwegian grid tariffs, from the data of the Fri nettleie project shipped as package data.

Credit: tariff data by "Fri nettleie" (https://github.com/kraftsystemet/fri-nettleie), CC-BY-4.0.
The credit goes wherever its data is used (README, ``--help`` of ``--grid``, the report's text).

Why as data, read with PyYAML: the grid companies change their prices every year or so, and the
project keeps them current in a format made for collecting by hand; amsread ships a snapshot and
reads numbers as exact decimals (a price of 18.56 øre stays 18.56). Public holidays (for the
``helligdager``/``fridag`` day types) come from the ``holidays`` library, not a hand-made Easter rule.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any, Final

import holidays
import yaml

from amsread.errors import TariffError

CREDIT: Final = 'Grid tariffs: "Fri nettleie", https://github.com/kraftsystemet/fri-nettleie (CC-BY-4.0)'
EXCLUDES: Final = "VAT and consumption tax"
GROUPS: Final = ("husholdning", "fritid", "liten_næring")
#: Methods amsread computes; the others are named, not guessed.
COMPUTED: Final = ("TRE_DØGNMAX_MND", "MND_MAX")

MONTHS: Final = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)
WEEKDAYS: Final = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


class _DecimalLoader(yaml.SafeLoader):
    """YAML with exact numbers: a float is read as the Decimal of its text."""


def _decimal_float(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    assert isinstance(node, yaml.ScalarNode)
    return Decimal(str(loader.construct_scalar(node)))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_float)


@dataclass(frozen=True, slots=True)
class Step:
    """A capacity step: from ``from_kwh`` (kWh/h) up to the next step's, at ``nok_per_year``."""

    from_kwh: Decimal
    to_kwh: Decimal | None
    nok_per_year: Decimal


@dataclass(frozen=True, slots=True)
class Special:
    """An ``unntak``: another energy price in some months, on some day types, at some hours."""

    name: str
    months: frozenset[int] | None
    days: tuple[str, ...] | None
    hours: frozenset[int] | None
    ore_per_kwh: Decimal


@dataclass(frozen=True, slots=True)
class Tariff:
    """One tariff of a company: who it is for, when it is valid, its capacity and energy parts."""

    company: str
    groups: tuple[str, ...]
    valid_from: dt.date
    valid_to: dt.date | None
    method: str
    threshold_included: bool | None
    steps: tuple[Step, ...]
    base_ore: Decimal
    specials: tuple[Special, ...]

    @property
    def computed(self) -> bool:
        """Does amsread compute this method (else: say so, do not guess)?"""
        return self.method in COMPUTED

    def step_for(self, kwh: Decimal) -> Step:
        """The step a capacity of ``kwh`` falls in; on a threshold, the higher one when the tariff
        includes thresholds (``terskel_inkludert``; unknown counts as included, the common case)."""
        chosen = self.steps[0]
        for step in self.steps[1:]:
            reached = kwh >= step.from_kwh if self.threshold_included is not False else kwh > step.from_kwh
            if reached:
                chosen = step
        return chosen

    def next_step(self, kwh: Decimal) -> Step | None:
        """The step above the one ``kwh`` falls in, or None at the top."""
        index = self.steps.index(self.step_for(kwh))
        return self.steps[index + 1] if index + 1 < len(self.steps) else None

    def ore_per_kwh(self, local_start: dt.datetime) -> Decimal:
        """The energy price (øre/kWh, excluding taxes) of the hour starting at ``local_start``."""
        for special in self.specials:
            if _matches(special, local_start):
                return special.ore_per_kwh
        return self.base_ore


@dataclass(frozen=True, slots=True)
class Company:
    """A grid company's file: its key (the file name), its name, its tariffs."""

    key: str
    name: str
    tariffs: tuple[Tariff, ...]

    def tariff(self, group: str, month: dt.date) -> Tariff:
        """The tariff valid on the first day of ``month`` for ``group``."""
        for tariff in self.tariffs:
            valid = tariff.valid_from <= month and (tariff.valid_to is None or month < tariff.valid_to)
            if valid and group in tariff.groups:
                return tariff
        raise TariffError(f"{self.name}: no tariff for {group} valid in {month:%Y-%m}")


# --------------------------------------------------------------------------------------------
# day types and hours
# --------------------------------------------------------------------------------------------


@functools.cache
def _holidays(year: int) -> frozenset[dt.date]:
    """Norway's public holidays of ``year`` (Sundays are not holidays here: ``helg`` covers them)."""
    return frozenset(holidays.country_holidays("NO", years=year, include_sundays=False))


def is_holiday(day: dt.date) -> bool:
    """Is ``day`` a Norwegian public holiday?"""
    return day in _holidays(day.year)


def day_matches(kind: str, day: dt.date) -> bool:
    """Does ``day`` count as the tariff day type ``kind``?"""
    weekday = day.weekday()
    weekend = weekday >= 5
    if kind in WEEKDAYS:
        return WEEKDAYS.index(kind) == weekday
    if kind == "ukedag":
        return not weekend
    if kind == "helg":
        return weekend
    if kind == "helligdager":
        return is_holiday(day)
    if kind == "fridag":
        return weekend or is_holiday(day)
    if kind == "virkedag":
        return not (weekend or is_holiday(day))
    return kind == "alle"


def parse_hours(text: str) -> frozenset[int]:
    """``16-21`` (both ends included), ``22-5`` (over midnight), ``7, 9-10`` into hours of the day."""
    hours: set[int] = set()
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        a, b = int(first), int(last or first)
        if not (0 <= a <= 23 and 0 <= b <= 23):
            raise TariffError(f"hours {text!r}: an hour is 0 to 23")
        hours.update(range(a, b + 1) if a <= b else [*range(a, 24), *range(0, b + 1)])
    return frozenset(hours)


def _matches(special: Special, local: dt.datetime) -> bool:
    if special.months is not None and local.month not in special.months:
        return False
    if special.hours is not None and local.hour not in special.hours:
        return False
    return special.days is None or any(day_matches(d, local.date()) for d in special.days)


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


def _data() -> Any:
    return resources.files("amsread.report").joinpath("tariffer")


def company_keys() -> list[str]:
    """Every shipped company's key (its file name without ``.yml``), sorted."""
    return sorted(p.name[:-4] for p in _data().iterdir() if p.name.endswith(".yml"))


@functools.cache
def load_company(key: str) -> Company:
    """The company whose file is ``<key>.yml``; a ``TariffError`` when there is none or it is bad."""
    if key not in company_keys():
        raise TariffError(f"no grid company {key!r}; `amsread report --grids` lists them")
    text = _data().joinpath(f"{key}.yml").read_text(encoding="utf-8")
    return company_from_yaml(key, text)


def company_from_yaml(key: str, text: str) -> Company:
    """A company from the text of a fri-nettleie file."""
    try:
        doc = yaml.load(text, Loader=_DecimalLoader)  # a SafeLoader subclass
        name = str(doc["netteier"])
        return Company(key, name, tuple(_tariff(name, t) for t in doc["tariffer"]))
    except (yaml.YAMLError, KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise TariffError(f"tariff file {key}.yml: {e}") from e


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _tariff(company: str, doc: dict[str, Any]) -> Tariff:
    fixed, energy = doc["fastledd"], doc["energiledd"]
    thresholds = sorted(fixed.get("terskler") or [], key=lambda t: Decimal(t.get("terskel") or 0))
    steps = tuple(
        Step(
            Decimal(t.get("terskel") or 0),
            Decimal(thresholds[i + 1]["terskel"]) if i + 1 < len(thresholds) else None,
            Decimal(t["pris"]),
        )
        for i, t in enumerate(thresholds)
    )
    return Tariff(
        company=company,
        groups=tuple(doc.get("kundegrupper") or ()),
        valid_from=_date(doc["gyldig_fra"]),
        valid_to=_date(doc["gyldig_til"]) if doc.get("gyldig_til") else None,
        method=str(fixed["metode"]),
        threshold_included=fixed.get("terskel_inkludert"),
        steps=steps or (Step(Decimal(0), None, Decimal(0)),),
        base_ore=Decimal(energy["grunnpris"]),
        specials=tuple(_special(u) for u in energy.get("unntak") or ()),
    )


def _special(doc: dict[str, Any]) -> Special:
    months = doc.get("måneder")
    days = doc.get("dager")
    hours = doc.get("timer")
    return Special(
        name=str(doc.get("navn", "")),
        months=frozenset(MONTHS.index(m) + 1 for m in months) if months else None,
        days=tuple(days) if days else None,
        hours=parse_hours(hours) if hours is not None else None,
        ore_per_kwh=Decimal(doc["pris"]),
    )
