"""Which serial settings does this port need, and if none works, why not?

``probe`` listens to a port at each likely setting in turn (2400 8E1 first: Aidon, Kaifa and
Landis+Gyr; then 2400 8N1: Kamstrup; then the unusual ones) and counts bytes, good frames and bad
ones. It stops at the first setting whose frames pass their checksums (HCS and FCS together are a
32-bit check: random bytes do not pass) and decodes a reading to name the meter. When nothing
works, ``diagnose`` explains the likely cause from what it saw (AID-IF §2.2.1, KFM p.1, KAM-NVE §2.4.1;
the bridge faults as AMSR and HASSAMS users met them): no bytes
at all, bytes that never form a frame, frames that fail their checksums, CR LF inserted before LF
by a bridge in text mode, 0x3F where bytes of 0x80 and above should be.

The port is reached only through a factory (``settings -> port``) with ``read(size)`` and
``close()``, so the logic runs on a small fake in the tests: a pseudo-terminal cannot model parity
or speed, because it passes bytes through whatever the settings say.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Protocol

from amsread.contract import Reading
from amsread.cosem.ciphering import parse_ciphered
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.errors import (
    AmsReadError,
    DecryptionError,
    NoSuchDeviceError,
    PermissionDeniedError,
    PortBusyError,
    SourceError,
)
from amsread.meters import MAKERS, PRESETS, maker_of_system_title
from amsread.settings import DEFAULT, SerialSettings
from amsread.wire.hdlc import FrameSplitter

#: Settings to try, most likely first (AID-IF §2.2.1, KFM p.1, KAM-NVE §2.4.1; P1 for 115200).
CANDIDATES: Final[tuple[SerialSettings, ...]] = (
    SerialSettings(2400, 8, "E", 1),
    SerialSettings(2400, 8, "N", 1),
    SerialSettings(2400, 8, "O", 1),
    SerialSettings(9600, 8, "E", 1),
    SerialSettings(9600, 8, "N", 1),
    SerialSettings(115200, 8, "N", 1),
)

#: Seconds to listen at each setting by default: a Kamstrup pushes every 10 s.
SECONDS: Final = 12.0
#: Bytes received without a single good frame after which a setting is judged wrong early: more
#: than two of the largest Norwegian frames.
ENOUGH_GARBAGE: Final = 1200
#: How much of the stream to keep for the diagnosis.
SAMPLE: Final = 16 * 1024
READ_SIZE: Final = 4096


class Port(Protocol):
    """The little a probe needs from a port: pyserial's ``Serial`` has it, and so does a fake."""

    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...


PortFactory = Callable[[SerialSettings], Port]


@dataclass(slots=True)
class Observation:
    """What one setting brought in."""

    settings: SerialSettings
    seconds: float = 0.0
    bytes: int = 0
    sample: bytearray = field(default_factory=bytearray)
    good: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    readings: list[Reading] = field(default_factory=list)
    read_error: str | None = None
    open_error: str | None = None
    #: Frames were encrypted (no key is given to a probe): the maker their system title names,
    #: or "" when it names none. None when nothing was encrypted.
    encrypted: str | None = None

    @property
    def silent(self) -> bool:
        return self.bytes == 0 and self.open_error is None and self.read_error is None

    def line(self, label: str | None = None) -> str:
        """One line for the table: ``2400 8E1   1536 bytes   3 good   0 bad``."""
        name = label or str(self.settings)
        if self.open_error:
            return f"{name:<11} could not open: {self.open_error}"
        bad = sum(self.bad.values())
        reasons = ", ".join(f"{n} {r}" for r, n in self.bad.most_common(3))
        text = f"{name:<11} {self.bytes:6d} bytes in {self.seconds:4.1f} s  {self.good:3d} good  {bad:3d} bad"
        if reasons:
            text += f" ({reasons})"
        if self.read_error:
            text += f"; read error: {self.read_error}"
        return text


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome: the setting that works and the meter found, or the likely cause and what to do."""

    found: SerialSettings | None
    reading: Reading | None
    cause: str
    explanation: tuple[str, ...]
    next_steps: tuple[str, ...]
    #: As ``Observation.encrypted``, for the setting found.
    encrypted: str | None = None


def listen(
    port: Port,
    settings: SerialSettings,
    seconds: float,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Observation:
    """Read ``port`` for up to ``seconds``; stop early once the verdict on this setting is clear.

    Clear means: a reading that names the meter (list 2 or 3), or plenty of bytes without a single
    good frame. A read error (the adapter unplugged) ends the listening too.
    """
    obs = Observation(settings)

    def note_encrypted(err: AmsReadError) -> None:
        if isinstance(err, DecryptionError) and obs.encrypted is None:
            obs.encrypted = _maker_of(err.raw)

    pipeline = Pipeline(on_error=note_encrypted)
    start = clock()
    deadline = start + seconds

    def chunks() -> Iterator[bytes]:
        while clock() < deadline:
            try:
                data = port.read(READ_SIZE)
            except OSError as e:  # pyserial's SerialException is an OSError
                obs.read_error = str(e).split("\n")[0][:120]
                return
            if data:
                obs.bytes += len(data)
                room = SAMPLE - len(obs.sample)
                if room > 0:
                    obs.sample += data[:room]
            yield data
            if any(r.values.get("meter_id") or r.layout == "p1" for r in obs.readings):
                return  # a P1 telegram names its meter in its first line
            if obs.bytes >= ENOUGH_GARBAGE and _good(pipeline) == 0:
                return

    for reading in pipeline.readings(chunks(), live=True, decoder=ReadingDecoder()):
        if len(obs.readings) < 8:
            obs.readings.append(reading)
    obs.seconds = clock() - start
    obs.good = _good(pipeline)
    obs.bad = Counter({k: v for k, v in pipeline.stats.errors.items() if v})
    return obs


def _good(pipeline: Pipeline) -> int:
    """Frames and P1 telegrams that passed their checksums."""
    return pipeline.stats.splitter.frames_good + pipeline.stats.p1.telegrams_good


def _maker_of(apdu: bytes) -> str:
    """The maker a ciphered APDU's system title names, or "" (unknown, or not parseable)."""
    try:
        return maker_of_system_title(parse_ciphered(apdu).system_title) or ""
    except AmsReadError:
        return ""


def probe(
    open_port: PortFactory,
    candidates: Sequence[SerialSettings] = CANDIDATES,
    seconds: float = SECONDS,
    *,
    clock: Callable[[], float] = time.monotonic,
    on_start: Callable[[SerialSettings], None] | None = None,
    on_done: Callable[[Observation], None] | None = None,
) -> list[Observation]:
    """Listen at each candidate setting until one brings good frames; return what each saw.

    A port that cannot be found, opened for permission, or is busy raises at once: that is the
    same at every setting. A silent first setting ends the probe too: a line that carries
    nothing carries nothing at any speed.
    """
    seen: list[Observation] = []
    for settings in candidates:
        if on_start is not None:
            on_start(settings)
        try:
            port = open_port(settings)
        except (NoSuchDeviceError, PermissionDeniedError, PortBusyError):
            raise
        except SourceError as e:
            obs = Observation(settings, open_error=str(e))
        else:
            try:
                obs = listen(port, settings, seconds, clock=clock)
            finally:
                port.close()
        seen.append(obs)
        if on_done is not None:
            on_done(obs)
        if obs.good or obs.read_error or (obs.silent and len(seen) == 1):
            break
    return seen


# --------------------------------------------------------------------------------------------
# diagnosis
# --------------------------------------------------------------------------------------------


def repair_crlf(data: bytes) -> bytes:
    """Undo a bridge in text mode: every ``0D 0A`` back to ``0A`` (only frames whose FCS then matches count)."""
    return data.replace(b"\r\n", b"\n")


def count_frames(data: bytes) -> int:
    """Frames in ``data`` that pass HCS and FCS."""
    splitter = FrameSplitter()
    n = len(splitter.feed(data))
    n += len(splitter.flush())
    return n


def _crlf_evidence(data: bytes) -> tuple[int, int, int]:
    """``(CR LF pairs, lone LF, frames after repair)``."""
    pairs = data.count(b"\r\n")
    lone = data.count(b"\n") - pairs
    repaired = count_frames(repair_crlf(data)) if pairs else 0
    return pairs, lone, repaired


def _crlf_verdict(pairs: int, lone: int, repaired: int, intact: int) -> Verdict:
    return Verdict(
        None,
        None,
        "CR LF inserted",
        (
            f"0A bytes arrive as 0D 0A ({pairs} times; {lone} lone 0A). With the 0D before each 0A",
            f"removed, {repaired} frames pass their checksums instead of {intact}: something between the",
            "meter and amsread treats the bytes as text and turns each line feed into CR LF, which",
            "breaks every frame that contains a 0A byte. Typically a serial-to-network bridge or a",
            "terminal in text mode.",
        ),
        (
            "Set the bridge (or the program in between) to raw / binary mode, with no line-ending",
            "conversion (ser2net: 'raw' instead of 'telnet'; ESP bridges: disable 'CR LF').",
        ),
    )


def _share(data: bytes, predicate: Callable[[int], bool]) -> float:
    return sum(1 for b in data if predicate(b)) / len(data) if data else 0.0


_NO_BYTES: Final = (
    "The port opened but not a single byte arrived. Usually one of:",
    "  - the HAN port is closed: grid companies open it on request (ask your nettselskap to",
    "    open the HAN port; it is free, and takes them a few days);",
    "  - the cable is on the wrong pins: the meter's M-Bus signal is on RJ-45 pins 1 and 2",
    "    (RJ-12 pins 3 and 4 in some other countries);",
    "  - the adapter gets no bus power: an M-Bus slave adapter (TSS721 based) draws its signal",
    "    from the meter's 24 V; a plain USB-serial (TTL or RS-232) adapter cannot read it.",
)


#: What to do when a network bridge passes bytes but no frame: the serial settings are the
#: bridge's, set in its own configuration; amsread's --baudrate and --parity mean nothing over TCP.
_BRIDGE_SETTINGS: Final = (
    "Over TCP the serial settings are the bridge's own: amsread's --baudrate and --parity change",
    "nothing. Set the bridge's serial side to 2400 baud 8E1 (Aidon, Kaifa, Landis+Gyr) or 8N1",
    "(Kamstrup), in raw/binary mode, and look at the bytes with `amsread hex PORT --raw`.",
)


def diagnose(seen: Sequence[Observation], *, network: bool = False) -> Verdict:
    """Name the working setting, or the likely cause of failure and the next step."""
    for obs in seen:
        if obs.good:
            data = bytes(obs.sample)
            pairs, lone, repaired = _crlf_evidence(data)
            intact = count_frames(data)
            if repaired > intact:  # only the frames without a 0A byte got through
                return _crlf_verdict(pairs, lone, repaired, intact)
            reading = next((r for r in obs.readings if r.values.get("meter_id")), None)
            if reading is None and obs.readings:
                reading = obs.readings[0]
            return Verdict(obs.settings, reading, "found", (), (), encrypted=obs.encrypted)

    heard = [o for o in seen if o.bytes]
    if not heard:
        errors = [o for o in seen if o.read_error or o.open_error]
        if errors:
            o = errors[0]
            return Verdict(
                None,
                None,
                "port error",
                (f"The port failed at {o.settings}: {o.read_error or o.open_error}.",),
                ("Check that the adapter is still plugged in (amsread ports), then run the probe again.",),
            )
        if network:
            return Verdict(
                None,
                None,
                "no bytes",
                (
                    "The connection opened but not a single byte arrived.",
                    "The bridge is reachable, but it passes nothing from the meter.",
                ),
                (
                    "Check the bridge's serial side: its speed and parity (2400 8E1 for Aidon and Kaifa,",
                    "2400 8N1 for Kamstrup), and its wiring to the meter (RJ-45 pins 1 and 2).",
                ),
            )
        return Verdict(
            None,
            None,
            "no bytes",
            _NO_BYTES,
            (
                "Next: check with your grid company that the HAN port is open, check the cable's pins,",
                "then run `amsread hex PORT --raw` for a minute: a working port shows frames every",
                "2-10 seconds.",
            ),
        )

    # The richest sample decides the evidence: CR LF and 0x3F survive any serial setting.
    best = max(heard, key=lambda o: len(o.sample))
    data = bytes(best.sample)
    pairs, lone, repaired = _crlf_evidence(data)
    if repaired:
        return _crlf_verdict(pairs, lone, repaired, count_frames(data))
    if pairs >= 3 and lone == 0 and data.count(0x7E) >= 2:
        return Verdict(
            None,
            None,
            "CR LF inserted",
            (
                f"Every 0A byte arrives as 0D 0A ({pairs} times, never alone): something between the",
                "meter and amsread treats the bytes as text and turns each line feed into CR LF.",
            ),
            ("Set the bridge or program in between to raw / binary mode, with no line-ending conversion.",),
        )
    high = _share(data, lambda b: b >= 0x80)
    question = _share(data, lambda b: b == 0x3F)
    if len(data) >= 64 and high == 0.0 and question >= 0.03 and data.count(b"\x7e\x3f"):
        return Verdict(
            None,
            None,
            "0x3F substitution",
            (
                f"No byte is 0x80 or above, but {question:.0%} of them are 0x3F ('?'), often right after",
                "a 7E flag where the frame format byte (A0-A7) belongs: a program in between decodes",
                "the bytes as text and replaces everything it cannot decode with '?'. That cannot be",
                "undone.",
            ),
            (
                "Read the port in binary: point amsread at the serial port itself, or set the",
                "program or bridge in between to pass raw bytes.",
            ),
        )
    idle = _share(data, lambda b: b in (0x00, 0xFF))
    if idle >= 0.8:
        return Verdict(
            None,
            None,
            "only 0xFF / 0x00",
            (
                f"{idle:.0%} of the bytes are 0xFF or 0x00 at every setting tried: the line moves,",
                "but no character makes sense. Wrong speed, an inverted signal, or an adapter that is",
                "not an M-Bus slave (a TTL or RS-232 adapter on the M-Bus pins).",
            ),
            (
                "Use an M-Bus slave adapter (TSS721 based) on RJ-45 pins 1 and 2; if you have one,",
                "run `amsread hex PORT --raw --baudrate 2400` and compare with a working capture.",
            ),
        )
    text = _share(data, lambda b: 0x20 <= b < 0x7F or b in (0x09, 0x0A, 0x0D))
    if text >= 0.95:
        p1 = b"/" in data and b"!" in data
        return Verdict(
            None,
            None,
            "text",
            (
                "The port sends readable text, not binary HDLC frames"
                + (
                    ": it looks like a P1 / DSMR telegram (lines like 1-0:1.7.0(...), ending in !CRC)."
                    if p1
                    else "."
                ),
            ),
            (
                "amsread reads P1 telegrams (Sweden, Finland, Belgium, the Netherlands) at any setting,",
                "but none of these passed its CRC: a damaged line, or a telegram cut short.",
            ),
        )
    damaged = sum(sum(o.bad.values()) for o in heard)
    if damaged:
        return Verdict(
            None,
            None,
            "bad checksums",
            (
                f"Frame starts arrive, but {damaged} candidate frames failed their checksums at every",
                "setting tried. The parity is the usual cause (an 8E1 receiver on an 8N1 meter loses",
                "bytes), but every parity was tried: the signal itself is being damaged.",
            )
            if not network
            else (
                f"Frame starts arrive, but {damaged} candidate frames failed their checksums: the",
                "bridge's serial side damages them (a wrong parity drops bytes), or its cable does.",
            ),
            (
                "Check the adapter (a TSS721-based M-Bus slave is known to work), shorten the cable,",
                "keep it away from mains wiring, and make sure nothing else is on the bus.",
            )
            if not network
            else _BRIDGE_SETTINGS,
        )
    where = "over the network" if network else f"at {best.settings}"
    return Verdict(
        None,
        None,
        "garbage",
        (
            f"Bytes arrive ({best.bytes} {where}) but never an HDLC frame, and no 7E flag"
            if data.count(0x7E) == 0
            else f"Bytes arrive ({best.bytes} {where}) but never a valid HDLC frame",
            "at any setting tried: the speed or parity is one amsread did not try, or the port",
            "carries something other than a HAN push.",
        )
        if not network
        else (
            f"Bytes arrive ({best.bytes} {where}) but never a valid HDLC frame: the bridge's",
            "serial side reads the meter at the wrong speed or parity, or the port carries",
            "something other than a HAN push.",
        ),
        (
            "Look at the bytes with `amsread hex PORT --raw`, and try other speeds with --baudrate",
            "and --parity. A Norwegian HAN port sends 2400 baud.",
        )
        if not network
        else _BRIDGE_SETTINGS,
    )


#: How makers are written for people.
MAKER_NAMES: Final = {maker.name: maker.display_name for maker in MAKERS}


def suggested_flags(settings: SerialSettings, manufacturer: str | None) -> str:
    """The flags that select ``settings``: none for the default, ``--meter X`` for a preset."""
    if settings == DEFAULT:
        return ""
    if manufacturer == "p1" or (manufacturer not in PRESETS and settings == PRESETS["p1"]):
        return " --meter p1"
    if manufacturer in PRESETS and PRESETS[manufacturer] == settings:
        return f" --meter {manufacturer}"
    flags = []
    if settings.baudrate != DEFAULT.baudrate:
        flags.append(f"--baudrate {settings.baudrate}")
    if settings.parity != DEFAULT.parity:
        flags.append(f"--parity {settings.parity}")
    if settings.bytesize != DEFAULT.bytesize:
        flags.append(f"--bytesize {settings.bytesize}")
    if settings.stopbits != DEFAULT.stopbits:
        flags.append(f"--stopbits {settings.stopbits:g}")
    return " " + " ".join(flags)


def describe_meter(reading: Reading | None, encrypted: str | None = None) -> str:
    """``an Aidon 6534 meter (id 7359992890941742, list 2)`` from a reading; ``an encrypted
    Landis+Gyr meter`` when its frames could not be read without a key."""
    if reading is None and encrypted is not None:
        maker = MAKER_NAMES.get(encrypted, encrypted.capitalize())
        return f"an encrypted {maker + ' ' if maker else ''}meter (its frames need a key)"
    if reading is None:
        return "frames that pass their checksums (no reading decoded)"
    values = reading.values
    if reading.layout == "p1":
        return "a P1 (DSMR) port: " + describe_meter(replace(reading, layout=""))
    name = (reading.manufacturer or "unknown").capitalize()
    model = values.get("meter_type")
    text = f"{name} {model}" if model else name
    details = []
    if values.get("meter_id"):
        details.append(f"id {values['meter_id']}")
    if reading.list:
        details.append(f"list {reading.list}")
    article = "an" if text[:1] in "AEIOU" else "a"
    return f"{article} {text} meter" + (f" ({', '.join(details)})" if details else "")
