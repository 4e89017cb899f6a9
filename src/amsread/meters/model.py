"""What the makers' homes declare: a ``Maker`` (its facts) and its ``MeterModel``s (for the simulator).

Kept low and free of construct: the simulator imports the models from ``amsread.meters``, and
``amsread.meters`` needs nothing of the simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from amsread.decode.layout import Layout, PositionalList, TripleList
from amsread.settings import SerialSettings

#: Milliseconds in an hour: the hourly list's period.
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class MeterModel:
    """What one meter family sends: identity, layouts, cadence, framing and resolutions.

    ``schedule`` is ``(list, period_ms, offset_ms)``: the list is due at every multiple of the
    period plus the offset. ``resolution`` is the step of each kind of quantity in the contract's
    unit (Aidon sends 0.1 A, Kaifa mA, Kamstrup 0.01 A; AID-OBIS p.3, KFM p.4, KAM-NVE §2.7.1).
    """

    manufacturer: str
    phases: int
    list_version: str
    meter_id: str
    meter_type: str
    layouts: dict[int, str]
    schedule: tuple[tuple[int, int, int], ...]
    destination: bytes
    source: bytes
    control: int
    invoke_id: int
    header_time: int
    """Header date-time form: 0x00 none, 0x0C plain, 0x09 Data-tagged (AID-IF §3.3.1, KAM-NVE rev 3.0)."""
    resolution: dict[str, Decimal]
    clock_at_hour: bool
    """List 3's clock says XX:00:00 (Aidon, Kaifa) rather than the moment it is sent (Kamstrup)."""
    sunday_zero: bool
    """Aidon numbers Sunday 0; the others follow BB13 (Monday 1 … Sunday 7)."""
    deviation: int | None
    """Clock deviation field: Aidon NO sends 0 all year, the others 0x8000 (None: not specified)."""
    dst_status: bool
    """Kamstrup sets status bit 7 in summer; Aidon and Kaifa send status 0."""


@dataclass(frozen=True, slots=True)
class Maker:
    """Everything amsread knows about one meter maker, in the maker's own module.

    ``list_ids`` are the list-version strings that name the maker; ``implicit_scalers`` the powers
    of ten of the base unit by quantity where the maker sends no scaler, keyed by country (``*``
    for any); ``system_title`` the FLAG manufacturer ID that starts its ciphered APDUs' system
    titles; ``hdlc_source`` an HDLC source address only its meters use; ``styles`` the generic
    shapes that imply it; ``layouts`` its lists for the flat road, ``positional`` its lists of bare
    values for the generic road, ``capture_object_scalers`` the scalers its capture-object lists
    leave out; ``preset`` its serial settings; ``models`` its simulated meters.
    """

    name: str
    display_name: str
    """As people write it: ``Landis+Gyr`` for ``landisgyr``."""
    list_ids: tuple[str, ...] = ()
    implicit_scalers: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    system_title: bytes | None = None
    hdlc_source: bytes | None = None
    styles: tuple[str, ...] = ()
    layouts: tuple[Layout, ...] = ()
    positional: tuple[PositionalList, ...] = ()
    triples: tuple[TripleList, ...] = ()
    """Its lists of OBIS / value / scaler-unit triples between bare values, for the generic road."""
    capture_object_scalers: Mapping[str, int] = field(default_factory=dict)
    preset: SerialSettings | None = None
    models: tuple[MeterModel, ...] = ()
