"""A second compiler for flat construct ``Struct``s: one ``struct.unpack_from`` per fixed run.

construct's own ``compile()`` turns a ``Struct`` into Python that reads a ``BytesIO`` one field at a
time and stores each field twice (in the result and in the context ``this``), inside two new
``Container``s per struct. For the flat per-layout declarations of ``decode.flat`` that was most of
a list's parse: a list 2 of 13 registers made 60 ``read`` calls, 60 ``unpack`` calls and 120 dict
stores per message.

``unpacker(struct)`` reads the same declaration and emits one function over the message's bytes:
consecutive fixed-size fields (integers, floats, fixed ``Bytes``, constants, nested fixed
``Struct``s) become one precompiled ``struct.Struct`` format, unpacked in one C call; a string
(a ``Rebuild`` length byte then ``Bytes(this.<length>)``) is one slice; constants are compared
in one tuple comparison. It returns the named fields as a flat tuple, in declaration order (a
nested ``Struct``'s fields inline), and ``Tell`` fields as offsets. The declaration is still the
single source: construct parses it interpreted, compiles it its own way, and builds every frame
of the demo meter and the tests from it; the tests check that both compiled forms agree with
the interpreted parse on every layout.

Only what the flat declarations use is accepted; anything else raises ``NotFlat`` and the
caller keeps construct's compiled parse.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import construct as c


class NotFlat(Exception):
    """The declaration holds a construct this compiler does not flatten (the caller falls back)."""


class Mismatch(ValueError):
    """The bytes are not this declaration: a constant differs, or a string runs past the end."""


#: construct's integer and float fields by their ``struct`` format (without the byte order).
_FORMATS: Final = frozenset("bBhHiIlLqQfde")


@dataclass
class _Program:
    """The emitted source, built up field by field."""

    lines: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    globals: dict[str, Any] = field(default_factory=dict)
    fmt: str = ""
    targets: list[str] = field(default_factory=list)
    consts: list[tuple[str, bytes]] = field(default_factory=list)
    lengths: dict[str, str] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    """The local variable that holds each named field."""
    counter: int = 0

    def local(self) -> str:
        self.counter += 1
        return f"x{self.counter}"

    def add(self, fmt: str, name: str | None = None, const: bytes | None = None) -> None:
        """One fixed field of the current run: named (a result), a constant, or a length byte."""
        var = self.local()
        self.fmt += fmt
        self.targets.append(var)
        if const is not None:
            self.consts.append((var, const))
        if name is not None:
            self.names.append(name)
            self.lengths.setdefault(name, var)
            self.results[name] = var

    def flush(self) -> None:
        """Emit the run collected so far as one unpack at ``pos``, then its constants' check."""
        if not self.targets:
            return
        unpacker = struct.Struct(">" + self.fmt)
        key = f"S{len(self.globals)}"
        self.globals[key] = unpacker.unpack_from
        self.lines.append(f"    {', '.join(self.targets)}, = {key}(data, pos)")
        self.lines.append(f"    pos += {unpacker.size}")
        if self.consts:
            got = ", ".join(v for v, _ in self.consts)
            ckey = f"C{len(self.globals)}"
            self.globals[ckey] = tuple(k for _, k in self.consts)
            self.lines.append(f"    if ({got},) != {ckey}: raise Mismatch('constant')")
        self.fmt, self.targets, self.consts = "", [], []


def _inner(sc: c.Construct) -> c.Construct:
    """Strip the wrappers that change nothing on the wire (``Renamed``)."""
    while isinstance(sc, c.Renamed):
        sc = sc.subcon
    return sc


def _field(prog: _Program, sc: c.Construct, name: str | None, prefix: str) -> None:
    """Add one subcon of the struct to the program (or raise ``NotFlat``)."""
    full = f"{prefix}{name}" if name else None
    if isinstance(sc, c.Const):
        if not isinstance(sc.value, bytes):
            raise NotFlat(f"constant of {type(sc.value).__name__}")
        prog.add(f"{len(sc.value)}s", None, sc.value)
        return
    if isinstance(sc, c.FormatField):
        if sc.fmtstr[0] not in "<>=" and sc.fmtstr[0] != "!":
            raise NotFlat(sc.fmtstr)
        if sc.fmtstr[0] == "<" or sc.fmtstr[1:] not in _FORMATS:
            raise NotFlat(f"format {sc.fmtstr}")
        prog.add(sc.fmtstr[1:], full)
        return
    if isinstance(sc, c.BytesInteger | c.BitsInteger):
        raise NotFlat(type(sc).__name__)
    if isinstance(sc, c.Rebuild):
        inner = _inner(sc.subcon)
        if not (isinstance(inner, c.FormatField) and inner.fmtstr[1:] == "B"):
            raise NotFlat("a length other than one unsigned byte")
        prog.add("B", full)
        return
    if isinstance(sc, c.Bytes):
        length = sc.length
        if isinstance(length, int):
            prog.add(f"{length}s", full)
            return
        ref = _length_ref(length)
        var = prog.lengths.get(f"{prefix}{ref}")
        if var is None:
            raise NotFlat(f"Bytes({length!r}) before its length")
        prog.flush()
        out = prog.local()
        prog.lines.append(f"    {out} = data[pos:pos + {var}]")
        prog.lines.append(f"    if len({out}) != {var}: raise Mismatch('string past the end')")
        prog.lines.append(f"    pos += {var}")
        if full is not None:
            prog.names.append(full)
            prog.results[full] = out
        return
    if isinstance(sc, c.Struct):
        for sub in sc.subcons:
            _field(prog, _inner(sub), sub.name, f"{full}." if full else prefix)
        return
    if sc is c.Tell or isinstance(sc, type(c.Tell)):
        prog.flush()
        out = prog.local()
        prog.lines.append(f"    {out} = pos")
        if full is not None:
            prog.names.append(full)
            prog.results[full] = out
        return
    raise NotFlat(type(sc).__name__)


def _length_ref(length: Any) -> str:
    """The field name a ``this.<name>`` length expression refers to."""
    text = repr(length)
    if not text.startswith("this[") or not text.endswith("]"):
        raise NotFlat(f"length {text}")
    return text[5:-1].strip("'\"")


@dataclass(frozen=True)
class Unpacker:
    """The compiled function and the name of each position of the tuple it returns."""

    parse: Callable[[bytes], tuple[Any, ...]]
    names: tuple[str, ...]
    source: str

    def index(self, name: str) -> int:
        return self.names.index(name)


def unpacker(declaration: c.Struct) -> Unpacker:
    """Compile ``declaration`` (a flat ``Struct``) into one function: bytes -> tuple of its fields.

    The function raises ``Mismatch`` when a constant differs or a string runs past the end, and
    ``struct.error`` when the bytes end inside a fixed run. Bytes after the last field are not
    looked at (a ``Tell`` field says where the declaration ended).
    """
    if not isinstance(declaration, c.Struct):
        raise NotFlat(type(declaration).__name__)
    prog = _Program()
    for sub in declaration.subcons:
        _field(prog, _inner(sub), sub.name, "")
    prog.flush()
    results = prog.results
    body = "\n".join(prog.lines)
    out = ", ".join(results[n] for n in prog.names)
    source = f"def unpack(data):\n    pos = 0\n{body}\n    return ({out},)\n"
    namespace: dict[str, Any] = {"Mismatch": Mismatch, **prog.globals}
    exec(compile(source, f"<unpacker {len(prog.names)} fields>", "exec"), namespace)
    return Unpacker(namespace["unpack"], tuple(prog.names), source)
