"""Flat declarations: a list layout compiled into one construct ``Struct``, the decoder's fast road.

From a ``Layout`` table (``decode.layout``; the tables live with their makers in
``amsread.meters``) ``declare`` builds one flat construct ``Struct`` for the whole notification
body: constant bytes merged into ``Const`` runs, the values as plain integer and string fields.
Compiled, that one declaration parses the body (no tree, no tag dispatch) and builds it (the demo
meter, the tests). The wire forms of each shape are listed in ``decode.layout``.
"""

from __future__ import annotations

import functools
import operator
import struct
from collections.abc import Callable
from typing import Any, Final

import construct as c

from amsread.cosem.axdr import (
    NOT_SPECIFIED,
    SCALARS,
    STRINGS,
    CosemDateTime,
    CosemDateTimeStruct,
    parse_compiled,
)
from amsread.cosem.unpack import Mismatch, NotFlat, Unpacker, unpacker
from amsread.decode.layout import CLOCK_SHAPES, Layout, Shape
from amsread.decode.message import Message, Slot, slot_for

# --------------------------------------------------------------------------------------------
# flat declarations
# --------------------------------------------------------------------------------------------


def _value(i: int, tag: int) -> list[c.Construct]:
    """The field(s) of value ``v<i>``: a scalar, or a string as its length byte then its bytes.

    A string was ``Prefixed(Int8ub, GreedyBytes)``; compiled, that wraps the string's bytes in a
    new ``BytesIO`` to read them back (construct's ``restream``), a quarter of a list 2 parse.
    A ``Rebuild`` length (short form: every string in these lists) and ``Bytes(this._n<i>)`` read
    the same bytes straight from the message, and still build. The length is named with ``_`` so
    it stays out of the values.
    """
    if tag in STRINGS:
        n = f"_n{i}"
        return [n / c.Rebuild(c.Int8ub, c.len_(c.this[f"v{i}"])), f"v{i}" / c.Bytes(c.this[n])]
    return [f"v{i}" / SCALARS[tag]]


#: The three date-time forms of a data-notification header (AID-IF §3.3.1, KAM-NVE rev 3.0): the byte(s)
#: after the invoke id, and where the body starts.
HEADER_FORMS: Final[dict[int, tuple[bytes, int]]] = {
    0x00: (b"\x00", 6),
    0x0C: (b"\x0c", 18),
    0x09: (b"\x09\x0c", 19),
}


def _body_parts(layout: Layout, run: bytearray, end: c.Construct = c.Terminated) -> list[c.Construct]:
    """The fields of ``layout``'s body; ``run`` holds constant bytes still to be emitted before it,
    ``end`` closes it (nothing may follow a body)."""
    parts: list[c.Construct] = []

    def const() -> None:
        if run:
            parts.append(c.Const(bytes(run)))
            run.clear()

    run += layout.prefix
    for i, f in enumerate(layout.fields):
        shape = f.shape
        if shape is Shape.NULL_PAIR:
            run += b"\x00\x00"
            continue
        if shape is Shape.REG:
            run += b"\x02\x03\x09\x06" + f.obis
        elif shape in (Shape.OBJ, Shape.CLOCK):
            run += b"\x02\x02\x09\x06" + f.obis
        elif shape in (Shape.PAIR, Shape.PAIR_CLOCK):
            run += b"\x09\x06" + f.obis
        if shape in CLOCK_SHAPES:
            run += b"\x09\x0c"
            const()
            parts.append(f"v{i}" / c.Bytes(12))
            continue
        run.append(f.tag)
        if f.const is not None:
            run += bytes((len(f.const),)) + f.const
            continue
        const()
        parts += _value(i, f.tag)
        if shape is Shape.REG:
            run += b"\x02\x02\x0f"
            const()
            parts.append(f"s{i}" / c.Int8sb)
            run.append(0x16)
            const()
            parts.append(f"u{i}" / c.Int8ub)
    const()
    parts.append(end)
    return parts


def declare(layout: Layout) -> c.Struct:
    """The flat ``Struct`` of ``layout``'s notification body: values ``v<i>``, scaler-units ``s<i>``/``u<i>``."""
    return c.Struct(*_body_parts(layout, bytearray()))


def declare_apdu(layout: Layout, form: int) -> c.Struct:
    """The whole data-notification in one flat ``Struct``: tag, invoke id, date-time form, body.

    Constant bytes of the header run straight into the body's first constant, so a message of a
    known list is checked and parsed in one compiled call.
    """
    head = [c.Const(b"\x0f"), "invoke_id" / c.Int32ub]
    marker, _ = HEADER_FORMS[form]
    run = bytearray(marker)
    if form:
        head.append(c.Const(bytes(run)))
        run.clear()
        head.append("date_time" / CosemDateTimeStruct)
    # Terminated has no compiled form (it would run interpreted on every message): the compiled
    # parse records where it stopped, and LayoutIndex.parse requires that to be the end.
    return c.Struct(*head, *_body_parts(layout, run, "end" / c.Tell))


#: What a failed flat parse can raise: the body is simply not this layout.
_MISMATCH: Final = (c.ConstructError, struct.error, Mismatch, ValueError, IndexError)


#: Names the manufacturer of a message from its list-id slots and values, the layout's style and
#: the HDLC source address (``decode.decoder.manufacturer_of``, which knows the makers' list ids).
Namer = Callable[[tuple[Slot, ...], tuple[Any, ...], str, "bytes | None"], "str | None"]


#: Parsed from a message, a layout's identifying values (its list id) name its manufacturer; a
#: stream repeats the same one or two, so the answer is kept, for this many distinct ids at most
#: (a stream of hostile ids must not grow memory).
NAMER_CACHE: Final = 64


@functools.cache
def _compiled_apdu(layout: Layout, form: int) -> Any:
    """``declare_apdu`` compiled by construct, once per process: compiling takes milliseconds,
    and every decoder (each command run, each test) would otherwise pay it again for the same table."""
    return declare_apdu(layout, form).compile()


@functools.cache
def _unpacker(layout: Layout, form: int) -> Unpacker | None:
    """``declare_apdu`` compiled to one ``struct`` unpack per fixed run (``cosem.unpack``), once
    per process; None if the declaration holds something that compiler does not flatten."""
    try:
        return unpacker(declare_apdu(layout, form))
    except NotFlat:
        return None


#: The date-time fields in ``CosemDateTime``'s order (the wire order puts the weekday fourth).
_CLOCK_FIELDS: Final = tuple(f"date_time.{name}" for name in NOT_SPECIFIED)


class _Form:
    """How to read one header form of a layout: the compiled function and where each value is
    in the tuple it returns (``itemgetter``s, so a message takes a few C calls, not a loop)."""

    def __init__(self, cl: CompiledLayout, form: int) -> None:
        fast = _unpacker(cl.layout, form)
        if fast is None:  # construct's compiled parse, its Container read by name
            compiled = _compiled_apdu(cl.layout, form)
            self.parse: Callable[[bytes], Any] = functools.partial(parse_compiled, compiled)
            names: tuple[str, ...] = ()
            self.fields: Callable[[Any], dict[str, Any]] = _container_fields
        else:
            self.parse = fast.parse
            names = fast.names
            self.fields = functools.partial(_tuple_fields, names)
        key: Callable[[str], Any] = names.index if names else (lambda n: n)
        self.end = key("end")
        self.invoke_id = key("invoke_id")
        self.values = _getter(tuple(None if n is None else key(n) for n in cl.names))
        self.scalers = _getter(tuple(None if n is None else key(n) for n in cl.scaler_names))
        self.units = _getter(tuple(None if n is None else key(n) for n in cl.unit_names))
        has_clock = form != 0
        self.clock = _getter(tuple(key(n) for n in _CLOCK_FIELDS)) if has_clock else None
        if not names and has_clock:  # a Container nests the header's date-time
            self.clock = _nested_clock


def _container_fields(parsed: Any) -> dict[str, Any]:
    return {k: v for k, v in parsed.items() if not k.startswith("_")}


def _tuple_fields(names: tuple[str, ...], parsed: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in zip(names, parsed, strict=True):
        head, _, tail = name.partition(".")
        if tail:
            out.setdefault(head, {})[tail] = value
        elif not name.startswith("_"):
            out[name] = value
    return out


def _nested_clock(parsed: Any) -> tuple[int, ...]:
    stamp = parsed["date_time"]
    return tuple(stamp[name] for name in NOT_SPECIFIED)


class CompiledLayout:
    """A layout with its declarations and what each parsed value means.

    ``declaration`` is the body alone (construct builds bodies with it for the demo meter and the
    tests); each header form of the whole data-notification is compiled on first use, to one
    ``struct`` unpack per fixed run (``cosem.unpack``) where the declaration allows, else by
    construct's own compiler.
    """

    def __init__(self, layout: Layout, namer: Namer | None = None) -> None:
        self.layout = layout
        self.namer = namer
        self.declaration = declare(layout)
        self._compiled: Any = None
        self._forms: dict[int, _Form] = {}
        kept = [(i, f) for i, f in enumerate(layout.fields) if f.shape is not Shape.NULL_PAIR]
        self.slots = tuple(slot_for(f.obis) for _, f in kept)
        self.names = tuple(None if f.const is not None else f"v{i}" for i, f in kept)
        self.consts = tuple(f.const for _, f in kept)
        self.scaler_names = tuple(f"s{i}" if f.shape is Shape.REG else None for i, f in kept)
        self.unit_names = tuple(f"u{i}" if f.shape is Shape.REG else None for i, f in kept)
        self.has_registers = any(self.scaler_names)
        self.has_consts = any(k is not None for k in self.consts)
        self.no_scalers: tuple[None, ...] = (None,) * len(kept)
        self.clock_at = tuple(k for k, (_, f) in enumerate(kept) if f.shape in CLOCK_SHAPES)
        #: where the list id is (at most one place): all ``manufacturer_of`` needs to look at
        self.version_at = tuple(k for k, s in enumerate(self.slots) if s.name == "list_version")[:1]
        self.version_slots = tuple(self.slots[k] for k in self.version_at)
        self._const_at = tuple((k, v) for k, v in enumerate(self.consts) if v is not None)
        self._fixed = bool(self._const_at or self.clock_at)
        self.name = layout.name
        self.list_level = layout.list_level
        self._version = _getter(self.version_at)
        self._makers: dict[tuple[tuple[Any, ...], bytes | None], str | None] = {}

    @property
    def compiled(self) -> Any:
        """The body declaration, compiled by construct (the tests check it agrees with the interpreted one)."""
        if self._compiled is None:
            self._compiled = self.declaration.compile()
        return self._compiled

    def apdu(self, form: int) -> Any:
        """The whole data-notification of header ``form``, compiled by construct (a ``Compiled``)."""
        return _compiled_apdu(self.layout, form)

    def form(self, form: int) -> _Form:
        """How header ``form`` is read (compiled on first use)."""
        found = self._forms.get(form)
        if found is None:
            found = self._forms[form] = _Form(self, form)
        return found

    def parse(self, apdu: bytes) -> Any:
        """The parsed fields of ``apdu`` (a tuple, or construct's Container where the unpack
        compiler declined); ``fields`` names them."""
        return self.form(apdu[5]).parse(apdu)

    def fields(self, apdu: bytes, parsed: Any) -> dict[str, Any]:
        """``parsed`` by name, as construct's parse of the same declaration names it (the tests)."""
        return self.form(apdu[5]).fields(parsed)

    def read(self, apdu: bytes, source: bytes | None) -> Message | None:
        """The message, if ``apdu`` is this layout from its first byte to its last; else None."""
        form = self._forms.get(apdu[5]) or self.form(apdu[5])
        try:
            parsed = form.parse(apdu)
        except _MISMATCH:
            return None
        if parsed[form.end] != len(apdu):
            return None  # bytes after the body: not this layout
        # the message, no tree: the values in table order (one call fewer per frame, inline)
        vals = form.values(parsed)
        if self._fixed:
            vals = self._fixed_values(vals)
        if self.has_registers:
            scalers, units = form.scalers(parsed), form.units(parsed)
        else:
            scalers = units = self.no_scalers
        return Message(
            self.slots,
            vals,
            scalers,
            units,
            CosemDateTime.from_wire(form.clock(parsed)) if form.clock is not None else None,
            self._maker(vals, source) if self.namer is not None else None,
            self.name,
            self.list_level,
            parsed[form.invoke_id] & 0xFFFFFF,
        )

    def build(self, values: dict[str, Any]) -> bytes:
        """Build the body from ``v<i>``/``s<i>``/``u<i>`` values (strings as bytes)."""
        return self.declaration.build(values)

    def _fixed_values(self, vals: tuple[Any, ...]) -> tuple[Any, ...]:
        """The parsed values with each constant in place and each clock as a ``CosemDateTime``."""
        values = list(vals)
        for k, v in self._const_at:
            values[k] = v
        for k in self.clock_at:
            values[k] = CosemDateTime.from_bytes(values[k])
        return tuple(values)

    def _maker(self, vals: tuple[Any, ...], source: bytes | None) -> str | None:
        """The namer's answer for this list id and source address, worked out once per pair."""
        key = (self._version(vals), source)
        maker = self._makers.get(key, _UNKNOWN)
        if maker is _UNKNOWN:
            assert self.namer is not None
            maker = self.namer(self.version_slots, key[0], self.layout.style, source)
            if len(self._makers) >= NAMER_CACHE:
                self._makers.clear()
            self._makers[key] = maker
        return maker  # type: ignore[return-value]


#: Not yet asked (None is an answer: no manufacturer known).
_UNKNOWN: Final = object()


def _getter(keys: tuple[Any, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function taking the entries ``keys`` (positions or names) of a parse, as a tuple in
    their order (None where the key is None): one ``itemgetter`` call, or for a single entry or
    one with gaps a generated ``lambda p: (p[3], None, p[5])``, rather than a look-up each in a loop."""
    wanted = [k for k in keys if k is not None]
    if len(wanted) == len(keys) and len(wanted) > 1:
        return operator.itemgetter(*wanted)
    items = ", ".join("None" if k is None else f"p[{k!r}]" for k in keys)
    # eval of a code object, never of a string: CPython marks a KeyboardInterrupt raised inside
    # eval("...") (a SIGTERM's, during the first message of a layout) as unhandled, and the
    # process then ends killed by SIGINT however the interrupt was handled.
    return eval(compile(f"lambda p: ({items},)" if keys else "lambda p: ()", "<getter>", "eval"))


class LayoutIndex:
    """Find the layout of a data-notification: dispatch on its header form and the body's first
    two bytes (container tag and count), then try the few candidates.

    The candidate that matched last is tried first next time, so a steady stream costs one
    compiled parse per message. A message no layout matches returns None (the generic road).
    """

    def __init__(self, layouts: tuple[Layout, ...], *, namer: Namer | None = None) -> None:
        self._by_prefix: dict[bytes, list[CompiledLayout]] = {}
        for layout in layouts:
            self._by_prefix.setdefault(layout.prefix, []).append(CompiledLayout(layout, namer))

    def parse(self, apdu: bytes, source: bytes | None = None) -> Message | None:
        """A ``Message`` for a data-notification of a known layout, else None."""
        if len(apdu) < 8:
            return None
        form = HEADER_FORMS.get(apdu[5])
        if form is None:
            return None
        start = form[1]
        candidates = self._by_prefix.get(apdu[start : start + 2])
        if not candidates:
            return None
        for k, cl in enumerate(candidates):
            message = cl.read(apdu, source)
            if message is None:
                continue
            if k:
                candidates.insert(0, candidates.pop(k))
            return message
        return None

    def compiled(self, name: str) -> CompiledLayout:
        """The compiled layout called ``name``."""
        for candidates in self._by_prefix.values():
            for cl in candidates:
                if cl.layout.name == name:
                    return cl
        raise KeyError(name)
