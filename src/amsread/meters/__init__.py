"""One home per meter maker, and the tables the rest of amsread reads them through.

Each maker's module (``aidon``, ``kaifa``, ``kamstrup``, ``landisgyr``, ``iskra``, ``sagemcom``,
``siemens``)
holds everything known about its meters in one ``Maker``: list ids, implicit scalers, system-title
prefix, serial preset, layouts and simulator models. This package joins them into the look-up
tables the decoder, the command line and the simulator use, so adding a maker is one new module
and one line in ``MAKERS``. Lists an operator or an industry body fixes for several makers live
in their country's module (``austria``, ``switzerland``). Data only: no construct, so ``--help``
can list the presets.
"""

from __future__ import annotations

from typing import Final

from amsread.decode.layout import Layout, PositionalList, TripleList, UnscaledCaptureList
from amsread.meters import (
    aidon,
    austria,
    iskra,
    kaifa,
    kamstrup,
    landisgyr,
    p1,
    sagemcom,
    siemens,
    switzerland,
)
from amsread.meters.model import Maker, MeterModel
from amsread.settings import SerialSettings

#: Every maker amsread knows, in the order their layouts are tried.
MAKERS: Final[tuple[Maker, ...]] = (
    aidon.MAKER,
    kaifa.MAKER,
    kamstrup.MAKER,
    landisgyr.MAKER,
    iskra.MAKER,
    sagemcom.MAKER,
    siemens.MAKER,
)
BY_MAKER: Final = {maker.name: maker for maker in MAKERS}

#: Every list layout of the flat road, maker by maker.
LAYOUTS: Final[tuple[Layout, ...]] = tuple(layout for maker in MAKERS for layout in maker.layouts)
BY_NAME: Final = {layout.name: layout for layout in LAYOUTS}

#: Lists of bare values the generic road reads by position, in the order they are tried: the
#: makers' own, then the Austrian operators' lists that several makers send (they imply no maker).
POSITIONAL_LISTS: Final[tuple[PositionalList, ...]] = (
    *(pl for m in MAKERS for pl in m.positional),
    *austria.OPERATOR_LISTS,
)

#: Lists of OBIS / value / scaler-unit triples between bare values (EVN's Kaifa MA309).
TRIPLE_LISTS: Final[tuple[TripleList, ...]] = tuple(t for m in MAKERS for t in m.triples)

#: Capture-object lists without scalers whose scale depends on the meter type (the Swiss VSE
#: lists), tried before the plain capture-object rule.
UNSCALED_CAPTURE_LISTS: Final[tuple[UnscaledCaptureList, ...]] = (switzerland.VSE_LIST,)

#: Scalers that capture-object lists leave out, by quantity (Landis+Gyr E450 CH).
CAPTURE_OBJECT_SCALERS: Final[dict[str, int]] = {
    q: s for m in MAKERS for q, s in m.capture_object_scalers.items()
}

#: List-version identifiers and the manufacturer they name.
LIST_VERSIONS: Final[dict[str, str]] = {list_id: m.name for m in MAKERS for list_id in m.list_ids}

#: Implicit scalers (power of ten of the base unit) for makers that send none, keyed by
#: (manufacturer, country or ``*``), then quantity.
IMPLICIT_SCALERS: Final[dict[tuple[str, str], dict[str, int]]] = {
    (m.name, country): dict(scalers) for m in MAKERS for country, scalers in m.implicit_scalers.items()
}

#: FLAG manufacturer IDs at the start of a system title, and the maker they name.
SYSTEM_TITLE_MAKERS: Final[dict[bytes, str]] = {
    m.system_title: m.name for m in MAKERS if m.system_title is not None
}

#: HDLC source addresses only one maker's meters use.
HDLC_SOURCE_MAKERS: Final[dict[bytes, str]] = {
    m.hdlc_source: m.name for m in MAKERS if m.hdlc_source is not None
}

#: The generic shapes that imply a maker (only Aidon sends register arrays; only Kaifa bare values).
MAKER_OF_STYLE: Final[dict[str, str]] = {style: m.name for m in MAKERS for style in m.styles}

#: The maker each positional list implies, by the style name its readings print.
MAKER_OF_LIST: Final[dict[str, str]] = {
    **{pl.style: m.name for m in MAKERS for pl in m.positional},
    **{t.name: m.name for m in MAKERS for t in m.triples},
    **{t.name: t.maker for lst in UNSCALED_CAPTURE_LISTS for t in lst.types},
    **{f"{lst.name}-{t.maker}": t.maker for lst in UNSCALED_CAPTURE_LISTS for t in lst.types},
}

#: Makers whose clock status sets the DST bit (bit 7) in summer: it tells the autumn hour that
#: comes twice apart (the simulator's models say which makers set it).
DST_STATUS_MAKERS: Final = frozenset(
    model.manufacturer for m in MAKERS for model in m.models if model.dst_status
)

#: Layouts of a list 1 whose bytes two makers share (Aidon and the Landis+Gyr E350).
SHARED_LIST1_LAYOUTS: Final = landisgyr.SHARES_AIDON_LIST1

#: Serial presets per meter family, and the P1 port's (``--meter``).
PRESETS: Final[dict[str, SerialSettings]] = {
    **{m.name: m.preset for m in MAKERS if m.preset is not None},
    "p1": p1.PRESET,
}

#: Simulated meters by (manufacturer, phases).
MODELS: Final[dict[tuple[str, int], MeterModel]] = {
    (model.manufacturer, model.phases): model for m in MAKERS for model in m.models
}


def maker_of_system_title(title: bytes | None) -> str | None:
    """The maker named by a system title's FLAG ID, if amsread knows it."""
    return SYSTEM_TITLE_MAKERS.get(title[:3]) if title else None
