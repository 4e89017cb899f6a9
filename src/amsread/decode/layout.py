"""The table types every list layout is written in: ``Layout``, ``Field``, their shapes and styles.

A ``Layout`` is a table a reviewer can hold against the vendor's list document: the items in wire
order, each with its OBIS code (for lists that send none, the documented meaning of the position),
its A-XDR type and its shape. The tables themselves live with their maker in ``amsread.meters``;
``decode.flat`` compiles them into flat construct declarations, and ``decode.generic`` reads the
positional ones. Nothing here imports construct, so the meter tables load at ``--help`` speed.

Shapes, as the DLMS data of each item looks on the wire:

* ``reg``: Aidon register ``02 03 | 09 06 <OBIS> | <value> | 02 02 0F <scaler> 16 <unit>``
* ``obj``: Aidon data object ``02 02 | 09 06 <OBIS> | <value>``
* ``clock``: Aidon clock ``02 02 | 09 06 <OBIS> | 09 0C <12 bytes>``
* ``pair`` / ``pair_clock``: Kamstrup and Swedish Kaifa ``09 06 <OBIS> | <value>``
* ``version``: Kamstrup's bare list-version string (sent without its OBIS code)
* ``null_pair``: ``00 00``, a missing phase on 1-phase Kamstrup meters
* ``bare`` / ``bare_clock``: Kaifa Norway and other positional lists, the value alone
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from amsread.cosem.tags import TAG
from amsread.obis import LIST_VERSION_OBIS, Obis


class Shape(StrEnum):
    """How one item of a list looks on the wire (see the module doc)."""

    REG = "reg"
    OBJ = "obj"
    CLOCK = "clock"
    PAIR = "pair"
    PAIR_CLOCK = "pair_clock"
    VERSION = "version"
    NULL_PAIR = "null_pair"
    BARE = "bare"
    BARE_CLOCK = "bare_clock"


#: Shapes that carry the 12 bytes of a COSEM date-time.
CLOCK_SHAPES: Final = frozenset({Shape.CLOCK, Shape.PAIR_CLOCK, Shape.BARE_CLOCK})
#: Shapes that take two elements of the container (KAM-NVE §2.7.1 counts OBIS and value apart).
TWO_ELEMENT_SHAPES: Final = frozenset({Shape.PAIR, Shape.PAIR_CLOCK, Shape.NULL_PAIR})


class Style(StrEnum):
    """The kind of list, as a data tree's shape shows it; the value is the printed layout suffix of
    the generic road (``generic:registers``)."""

    REGISTERS = "registers"
    """Aidon / L+G E350: an array of (OBIS, value[, scaler-unit]) structures."""
    REGISTER_STRUCTURE = "register-structure"
    """The same structures in a structure, as the Iskra AM550 sends them (only arrays imply Aidon)."""
    PAIRS = "pairs"
    """Kamstrup, Swedish Kaifa: an optional bare list version, then OBIS/value pairs."""
    MIXED = "mixed"
    """Pairs and register structures side by side (Kaifa MA309 Poland)."""
    CAPTURE_OBJECTS = "capture-objects"
    """The push object list, then one value per object (L+G E450 CH)."""
    POSITIONAL = "positional"
    """Bare values known by their count (Kaifa Norway)."""


ARRAY: Final = TAG.ARRAY
STRUCTURE: Final = TAG.STRUCTURE
U32: Final = TAG.DOUBLE_LONG_UNSIGNED
I32: Final = TAG.DOUBLE_LONG
U16: Final = TAG.LONG_UNSIGNED
I16: Final = TAG.LONG
U64: Final = TAG.LONG64_UNSIGNED
VSTR: Final = TAG.VISIBLE_STRING
OSTR: Final = TAG.OCTET_STRING


@dataclass(frozen=True, slots=True)
class Field:
    """One item of a layout: its shape, OBIS code (6 wire bytes, or b"" for padding or a position
    whose meaning is not documented) and type."""

    shape: Shape
    obis: bytes
    tag: int
    const: bytes | None = None
    """A value the layout requires, such as Kaifa's list id: positions mean what KFM documents
    only under ``KFM_001``, so another id must not be read by this table."""
    scaler: int | None = None
    """The scaler a positional list implies for this position (the operator's document)."""


def _o(text: str) -> bytes:
    return Obis.parse(text).to_bytes()


def reg(obis: str, tag: int) -> Field:
    return Field(Shape.REG, _o(obis), tag)


def obj(obis: str, tag: int) -> Field:
    return Field(Shape.OBJ, _o(obis), tag)


def clock(obis: str) -> Field:
    return Field(Shape.CLOCK, _o(obis), OSTR)


def pair(obis: str, tag: int) -> Field:
    return Field(Shape.PAIR, _o(obis), tag)


def pair_clock(obis: str) -> Field:
    return Field(Shape.PAIR_CLOCK, _o(obis), OSTR)


def version(tag: int) -> Field:
    return Field(Shape.VERSION, LIST_VERSION_OBIS, tag)


def bare(obis: str | None, tag: int, *, const: bytes | None = None, scaler: int | None = None) -> Field:
    """A bare value; ``obis`` None for a position whose meaning is not documented (left out)."""
    return Field(Shape.BARE, _o(obis) if obis else b"", tag, const, scaler)


def bare_clock(obis: str) -> Field:
    return Field(Shape.BARE_CLOCK, _o(obis), OSTR)


NULL_PAIR: Final = Field(Shape.NULL_PAIR, b"", TAG.NULL)


@dataclass(frozen=True, slots=True)
class Layout:
    """A list as one meter family sends it: container, items in order, and its Norwegian list level."""

    name: str
    style: Style
    container: int
    list_level: int | None
    fields: tuple[Field, ...]

    @property
    def count(self) -> int:
        """Elements of the container: pairs and null pairs count twice (KAM-NVE §2.7.1)."""
        return sum(2 if f.shape in TWO_ELEMENT_SHAPES else 1 for f in self.fields)

    @property
    def prefix(self) -> bytes:
        """The container's tag and count: the key the index dispatches on."""
        return bytes((self.container, self.count))


@dataclass(frozen=True, slots=True)
class PositionalList:
    """A layout of bare values that the generic road reads by count, where only a maker's document
    says what each position means.

    The values must equal the layout's constants (Kaifa's list id) and, if ``typed``, each be of
    the Python type its A-XDR tag decodes to. ``style`` is what the reading's layout name prints
    after ``generic:``.
    """

    layout: Layout
    style: str
    typed: bool = False


@dataclass(frozen=True, slots=True)
class TripleList:
    """A list of OBIS / value / scaler-unit triples, all in one flat structure, between a few bare
    values that only a maker's document names (EVN's Kaifa MA309: the clock first, the meter
    number last).

    The generic road reads it where the body has exactly ``lead``, then whole triples, then
    ``trail``, each bare value of its field's A-XDR type. ``name`` is what the reading's layout
    prints after ``generic:``.
    """

    name: str
    lead: tuple[Field, ...]
    trail: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class MeterType:
    """One meter type's push of an unscaled capture-object list, and the scales its makers' data
    imply (``meters.switzerland``).

    ``flag`` is the FLAG manufacturer id that starts the list's logical device name, ``objects``
    the OBIS codes of the push object list in order, as the type's firmware sends them; the type
    is the one whose flag and objects both match. ``scalers`` are the powers of ten of the
    contract's base unit by quantity (``voltage``, ``current``). ``name`` is what the reading's
    layout prints after ``generic:``, ``maker`` the maker it implies.
    """

    name: str
    maker: str
    model: str
    """As people write it: ``Landis+Gyr E570``."""
    flag: bytes
    objects: tuple[bytes, ...]
    scalers: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class UnscaledCaptureList:
    """A capture-object list a recommendation fixes, pushed without any scaler (the Swiss VSE
    lists): recognised by its objects, scaled by the meter type that sends it.

    The list starts with its push setup's object list; it carries ``device_name`` (an octet-string
    that starts with a FLAG id) and every one of ``registers`` (compared on any channel, see
    ``any_channel``), each value an integer, and no other register. Quantities in ``fixed`` have the scale the recommendation fixes for every meter
    (energy in Wh, power in W); the others (voltage, current) take the scale of the matching entry
    of ``types``, and without one they are left out: never a guess. ``name`` is the printed layout
    of a list whose type is unknown (followed by the maker where its FLAG id is a known type's).
    """

    name: str
    device_name: bytes
    registers: frozenset[bytes]
    fixed: Mapping[str, int]
    types: tuple[MeterType, ...]


def any_channel(obis: bytes) -> bytes:
    """The OBIS code with its channel (B) set to 0: the key that compares registers on any channel."""
    return obis[:1] + b"\x00" + obis[2:] if len(obis) == 6 else obis
