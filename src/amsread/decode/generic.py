"""The generic road: items from the shape of a self-describing A-XDR data tree.

Any well-formed data-notification that names its values with OBIS codes decodes here without a
layout table: Aidon-style register arrays, Iskra's structure of registers, Kamstrup pairs, the
Kaifa Poland mix, and capture-object lists (the push setup's own object list followed by one value
per object, DLMS Blue Book, push setup interface class 40, attribute 2). Lists of bare values need
knowledge from outside the frame: the caller hands in ``rules`` (the makers' positional lists,
from ``amsread.meters``), the scalers that capture-object registers leave out, and the
capture-object lists whose scale depends on the meter type (the Swiss VSE lists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from amsread.cosem.tags import TAG
from amsread.decode.layout import (
    Field,
    PositionalList,
    Style,
    TripleList,
    UnscaledCaptureList,
    any_channel,
)
from amsread.decode.message import NUMBER, Item, slot_for
from amsread.errors import LayoutError
from amsread.obis import LIST_VERSION_OBIS
from amsread.text import visible

#: Push setup interface class (BB13 §4.4.8); its attributes in a capture list are not readings.
PUSH_SETUP_CLASS: Final = 40
#: The value attribute of Data (1), Register (3), Extended register (4) and Clock (8) objects.
VALUE_ATTRIBUTE: Final = 2
#: Classes whose value attribute 2 is scaled by an attribute 3 scaler-unit that pushes leave out.
REGISTER_CLASSES: Final = frozenset({3, 4})
#: The Data interface class (BB13 §4.3.1), which holds the logical device name.
DATA_CLASS: Final = 1
#: The A-XDR integer types (BB13 Table 2): a register's value may be any of them, its width varies.
INTEGER_TAGS: Final = frozenset(
    {
        TAG.INTEGER,
        TAG.LONG,
        TAG.UNSIGNED,
        TAG.LONG_UNSIGNED,
        TAG.DOUBLE_LONG,
        TAG.DOUBLE_LONG_UNSIGNED,
        TAG.LONG64,
        TAG.LONG64_UNSIGNED,
    }
)
#: Length of a COSEM logical device name: the three-letter FLAG id, then up to 13 octets (BB13 §4.1.8.2).
DEVICE_NAME_LENGTHS: Final = range(4, 17)


def is_obis(v: Any) -> bool:
    """A six-byte octet-string: in a data tree, an OBIS code (logical name)."""
    return isinstance(v, bytes) and len(v) == 6


def items_from_tree(
    body: Any,
    *,
    container: int | None = None,
    rules: Sequence[PositionalList] = (),
    capture_scalers: Mapping[str, int] | None = None,
    tags: tuple[int, ...] = (),
    triples: Sequence[TripleList] = (),
    unscaled: Sequence[UnscaledCaptureList] = (),
    left_out: list[str] | None = None,
) -> tuple[tuple[Item, ...], str]:
    """Walk a generic data tree by its shape; return its items and the style found (``Style``, or
    the name of the positional list that matched).

    Where values the frame carried are left out because nothing says their scale (a VSE list
    from an unknown meter type), one line saying which and why is appended to ``left_out``."""
    if not isinstance(body, tuple) or not body:
        raise LayoutError("notification body is not a non-empty array or structure")
    if all(_is_register(e) for e in body):
        style = Style.REGISTER_STRUCTURE if container == TAG.STRUCTURE else Style.REGISTERS
        return tuple(_register_item(e) for e in body), style
    for unscaled_list in unscaled:
        found_unscaled = unscaled_capture_items(unscaled_list, body, left_out, tags)
        if found_unscaled is not None:
            return found_unscaled
    captured = capture_object_items(body, capture_scalers or {})
    if captured is not None:
        return captured, Style.CAPTURE_OBJECTS
    not_pairs: LayoutError | None = None
    if any(is_obis(e) or _is_register(e) for e in body):
        try:
            items, mixed = _pair_items(body)
        except LayoutError as e:
            not_pairs = e  # a positional list may start with a code (Austria's 0-6:25.9.0)
        else:
            return items, Style.MIXED if mixed else Style.PAIRS
    for rule in rules:
        found = positional_items(rule, body, tags)
        if found is not None:
            return found
    for triple_rule in triples:
        found_triples = triple_items(triple_rule, body, tags)
        if found_triples is not None:
            return found_triples, triple_rule.name
    if not_pairs is not None:
        raise not_pairs
    raise LayoutError(f"unknown layout: {len(body)} bare values without OBIS codes")


def positional_items(
    rule: PositionalList, body: tuple[Any, ...], tags: tuple[int, ...] = ()
) -> tuple[tuple[Item, ...], str] | None:
    """Items and style of ``body`` read as ``rule``'s list, or None when it is not that list: another
    count, a constant (a list id) that differs, or (for a typed list) a value of the wrong type.
    ``tags`` are the elements' A-XDR tags where the caller knows them: a typed list then requires
    each tag exactly (a long-unsigned where the document says double-long-unsigned is another
    list), which is what tells apart the positional lists of the same count.
    Positions whose meaning is not documented (no OBIS code) are left out."""
    fields = rule.layout.fields
    if len(body) != len(fields):
        return None
    exact = rule.typed and len(tags) == len(fields)
    for i, (f, v) in enumerate(zip(fields, body, strict=True)):
        if f.const is not None and v != f.const:
            return None
        if exact and tags[i] != f.tag:
            return None
        if rule.typed and not _of_type(f.tag, v):
            return None
    return tuple(Item(f.obis, v, f.scaler) for f, v in zip(fields, body, strict=True) if f.obis), rule.style


def triple_items(
    rule: TripleList, body: tuple[Any, ...], tags: tuple[int, ...] = ()
) -> tuple[Item, ...] | None:
    """Items of ``body`` read as ``rule``'s triples list, or None when it is not that list: the
    bare values before and after must be of their fields' types, and everything between them
    whole OBIS / value / scaler-unit triples (the scaler-unit as two integers)."""
    lead, trail = len(rule.lead), len(rule.trail)
    middle = len(body) - lead - trail
    if middle <= 0 or middle % 3:
        return None
    edges = (*range(lead), *range(len(body) - trail, len(body)))
    for f, i in zip((*rule.lead, *rule.trail), edges, strict=True):
        if not _bare_fits(f, body[i], tags[i] if len(tags) == len(body) else None):
            return None
    items = [Item(f.obis, body[i], f.scaler) for f, i in zip(rule.lead, range(lead), strict=True) if f.obis]
    for i in range(lead, lead + middle, 3):
        code, value, scaler_unit = body[i : i + 3]
        if not is_obis(code) or not _is_scaler_unit(scaler_unit):
            return None
        items.append(Item(code, value, scaler_unit[0], scaler_unit[1]))
    items += [
        Item(f.obis, body[i], f.scaler) for f, i in zip(rule.trail, edges[lead:], strict=True) if f.obis
    ]
    return tuple(items)


def _bare_fits(f: Field, v: Any, tag: int | None) -> bool:
    """A bare value of the field's A-XDR type (exactly, where the tag is known)."""
    return (tag is None or tag == f.tag) and _of_type(f.tag, v)


def _is_scaler_unit(e: Any) -> bool:
    return isinstance(e, tuple) and len(e) == 2 and type(e[0]) is int and type(e[1]) is int


def _of_type(tag: int, v: Any) -> bool:
    """Whether ``v`` is of the Python type the A-XDR ``tag`` decodes to (strings, else an int)."""
    if tag == TAG.OCTET_STRING:
        return isinstance(v, bytes)
    if tag == TAG.VISIBLE_STRING:
        return isinstance(v, str)
    return type(v) is int


def _is_register(e: Any) -> bool:
    return isinstance(e, tuple) and bool(e) and is_obis(e[0])


def _register_item(e: tuple[Any, ...]) -> Item:
    if len(e) == 3 and isinstance(e[2], tuple) and len(e[2]) == 2:
        scaler, unit = e[2]
        if not isinstance(scaler, int) or not isinstance(unit, int):
            raise LayoutError("scaler-unit is not two integers")
        return Item(e[0], e[1], scaler, unit)
    if len(e) == 2:
        return Item(e[0], e[1])
    raise LayoutError(f"register structure of {len(e)} elements")


def _pair_items(body: tuple[Any, ...]) -> tuple[tuple[Item, ...], bool]:
    """Items of a pairs list, and whether register structures were mixed in."""
    items = []
    mixed = False
    i = 0
    if not is_obis(body[0]) and isinstance(body[0], (str, bytes)):
        items.append(Item(LIST_VERSION_OBIS, body[0]))
        i = 1
    n = len(body)
    while i < n:
        key = body[i]
        if _is_register(key):
            items.append(_register_item(key))
            mixed = True
            i += 1
            continue
        if key is None and i + 1 < n and body[i + 1] is None:
            i += 2  # null-data pair: a phase this meter does not have
            continue
        if not is_obis(key) or i + 1 >= n:
            raise LayoutError(f"element {i} is not an OBIS code of an OBIS/value pair")
        items.append(Item(key, body[i + 1]))
        i += 2
    return tuple(items), mixed


def _is_descriptor(d: Any) -> bool:
    return (
        isinstance(d, tuple)
        and len(d) == 4
        and type(d[0]) is int
        and is_obis(d[1])
        and type(d[2]) is int
        and type(d[3]) is int
    )


def capture_object_items(body: tuple[Any, ...], scalers: Mapping[str, int]) -> tuple[Item, ...] | None:
    """Items of a capture-object list, or None when ``body`` is not one.

    The first element is the list of definitions ``{class_id, logical_name, attribute_index,
    data_index}``, and the body holds exactly one value per definition (the first value being that
    list itself). Push setup attributes and attributes other than the value are skipped; so are
    definitions of a single element of an attribute (data index not 0), which this rule cannot
    interpret. Registers push attribute 2 only: their scaler comes from ``scalers`` by quantity.
    """
    if not _is_capture_list(body):
        return None
    items = []
    for (class_id, obis, attribute, data_index), value in zip(body[0], body, strict=True):
        if class_id == PUSH_SETUP_CLASS or attribute != VALUE_ATTRIBUTE or data_index != 0:
            continue
        scaler = None
        if class_id in REGISTER_CLASSES and type(value) is int and len(obis) == 6:
            slot = slot_for(obis)
            if slot.kind == NUMBER:
                scaler = scalers.get(slot.quantity)
        items.append(Item(obis, value, scaler))
    return tuple(items)


def _is_capture_list(body: tuple[Any, ...]) -> bool:
    """The push object list first, then exactly one value per object (the list itself included)."""
    head = body[0]
    return isinstance(head, tuple) and len(head) == len(body) and all(_is_descriptor(d) for d in head)


def unscaled_capture_items(
    rule: UnscaledCaptureList,
    body: tuple[Any, ...],
    left_out: list[str] | None = None,
    tags: tuple[int, ...] = (),
) -> tuple[tuple[Item, ...], str] | None:
    """Items and style of ``body`` read as ``rule``'s list (a Swiss VSE list), or None when it is
    not that list: another first object than a push setup, no logical device name (an
    octet-string that starts with a FLAG id), a missing or extra register, or a register value
    that is not an integer. ``tags`` are the values' A-XDR tags where the caller knows them: then
    an enum or a boolean is no integer, and a visible-string no octet-string.

    Integer widths are not compared: the same Landis+Gyr E570 pushes double-long-unsigned values
    when idle and 64-bit ones under load (``scs_lg_e570_ch_vse2026_noload_1``). Registers take the
    scale ``rule`` fixes (energy, power) or their meter type's; a quantity without one (voltage and
    current of an unknown type) is left out, and ``left_out`` hears why.
    """
    if not _is_capture_list(body) or body[0][0][0] != PUSH_SETUP_CLASS:
        return None
    known: tuple[int | None, ...] = tags if len(tags) == len(body) else (None,) * len(body)
    name = _device_name(rule, body, known)
    if name is None or not _has_exactly(rule, body, known):
        return None
    objects = tuple(d[1] for d in body[0])
    meter = next((t for t in rule.types if t.flag == name[:3] and t.objects == objects), None)
    scalers = {**rule.fixed, **meter.scalers} if meter is not None else rule.fixed
    items = []
    for (class_id, obis, attribute, data_index), value in zip(body[0], body, strict=True):
        if class_id == PUSH_SETUP_CLASS or attribute != VALUE_ATTRIBUTE or data_index != 0:
            continue
        if class_id not in REGISTER_CLASSES:
            items.append(Item(obis, value))
            continue
        scaler = scalers.get(slot_for(obis).quantity)
        if scaler is not None:
            items.append(Item(obis, value, scaler))
    if meter is None and left_out is not None:
        left_out.append(_unknown_type(rule, name))
    return tuple(items), meter.name if meter is not None else unknown_type_style(rule, name[:3])


def unknown_type_style(rule: UnscaledCaptureList, flag: bytes) -> str:
    """The layout of a list of unknown type: the list's name, and the maker where the FLAG id of
    its device name is one of the table's (``vse-2026-landisgyr``), for the reading's manufacturer."""
    maker = next((t.maker for t in rule.types if t.flag == flag), None)
    return f"{rule.name}-{maker}" if maker is not None else rule.name


def _device_name(
    rule: UnscaledCaptureList, body: tuple[Any, ...], tags: tuple[int | None, ...]
) -> bytes | None:
    """The list's logical device name, if it has exactly one and it starts with a FLAG id."""
    found = [
        (value, tag)
        for (class_id, obis, attribute, _), value, tag in zip(body[0], body, tags, strict=True)
        if obis == rule.device_name and class_id == DATA_CLASS and attribute == VALUE_ATTRIBUTE
    ]
    if len(found) != 1 or found[0][1] not in (None, TAG.OCTET_STRING):
        return None
    name = found[0][0]
    ok = (
        type(name) is bytes and len(name) in DEVICE_NAME_LENGTHS and name[:3].isalpha() and name[:3].isupper()
    )
    return name if ok else None


def _has_exactly(rule: UnscaledCaptureList, body: tuple[Any, ...], tags: tuple[int | None, ...]) -> bool:
    """Whether the list's registers are ``rule``'s, each once, as an integer value attribute."""
    seen = set()
    for (class_id, obis, attribute, data_index), value, tag in zip(body[0], body, tags, strict=True):
        if class_id not in REGISTER_CLASSES:
            continue
        key = any_channel(obis)
        if key not in rule.registers or key in seen or attribute != VALUE_ATTRIBUTE or data_index != 0:
            return False
        if type(value) is not int or (tag is not None and tag not in INTEGER_TAGS):
            return False
        seen.add(key)
    return seen == rule.registers


def _unknown_type(rule: UnscaledCaptureList, name: bytes) -> str:
    """Why an unknown type's voltages and currents are left out, naming the meter."""
    text = visible(name.decode("latin-1"))
    same_maker = [t.model for t in rule.types if t.flag == name[:3]]
    why = (
        f"its object list is none of {_listed(same_maker)}"
        if same_maker
        else f"no public source shows this list from maker {text[:3]}"
    )
    return (
        f"{rule.name.upper()} list from meter {text}: no published scale for its voltages and "
        f"currents ({why}), left out"
    )


def _listed(models: list[str]) -> str:
    return models[0] if len(models) == 1 else ", ".join(models[:-1]) + " or " + models[-1]
