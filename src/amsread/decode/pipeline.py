"""Envelopes to readings with the decoder the caller hands in: catch, count, continue.

``Pipeline`` is the framer plus one step: each whole message goes to a ``Decoder`` (usually a
``decode.decoder.ReadingDecoder``, never imported here), every decode error is counted and
skipped like a frame error, and readings that are printed but suspect are counted as warnings.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Final, Protocol, Unpack

from amsread.contract import Reading, limit_for
from amsread.errors import AmsReadError, InternalError
from amsread.wire.framer import Envelope, Framer, FramerOptions

#: How many bytes of a frame that hit an internal error the one-time warning shows.
REPORT_BYTES: Final = 512

#: The summary's name for values left out because no meter can mean them.
IMPLAUSIBLE: Final = "implausible value"

#: The summary's name for readings some of whose values were left out for want of a scale.
LEFT_OUT: Final = "value without a known scale"

#: How many different reasons for values left out are told: each names its meter, and a stream of
#: frames with ever new names must neither flood stderr nor grow memory (the count goes on).
LEFT_OUT_TOLD: Final = 16

#: The summary's name for hourly lists whose clock did not advance.
STALE_HOURLY: Final = "stale hourly list"


class Decoder(Protocol):
    """What the pipeline needs of a decoder: an envelope in, a reading (or None: a part) out."""

    def decode(self, envelope: Envelope) -> Reading | None: ...


class Pipeline(Framer):
    """The framer, then the decoder: readings in stream order, every error counted and skipped.

    ``on_warning`` hears of readings that are printed but suspect (a stale hourly list).
    """

    def __init__(
        self, *, on_warning: Callable[[str], None] | None = None, **options: Unpack[FramerOptions]
    ) -> None:
        super().__init__(**options)
        self.on_warning = on_warning
        #: show the traceback of an internal error (``--debug``); told once per run either way
        self.debug = False
        self._internal_reported = False
        #: meter id -> clock of its last hourly list, to notice one that was sent again
        self._last_hourly: dict[str | None, object] = {}
        #: the quantities whose implausible values have been told (once each per run)
        self._implausible_told: set[str] = set()
        #: the reasons for values left out that have been told (once each per run)
        self._left_out_told: set[str] = set()

    def readings(self, source: Iterable[bytes], *, decoder: Decoder, live: bool = False) -> Iterator[Reading]:
        """Decoded readings; every decode error is counted and skipped."""
        for envelope in self.messages(source, live=live):
            try:
                reading = decoder.decode(envelope)
            except AmsReadError as err:
                self._skip(err)
                continue
            except Exception as exc:  # the last guard: a bug must not end a months-long run
                self._internal_error(exc, envelope.payload)
                continue
            if reading is not None:
                self.stats.readings += 1
                if reading.implausible:
                    self._implausible(reading)
                if reading.message is not None and reading.message.left_out:
                    self._left_out(reading.message.left_out)
                if reading.list == 3:
                    self._check_hourly(reading)
                yield reading

    def _internal_error(self, exc: Exception, info: bytes) -> None:
        """Count a decoder bug as an ``internal error`` skip; say once (via ``on_warning``) that it
        deserves a report, with the traceback when ``debug`` is set."""
        err = InternalError(f"{type(exc).__name__}: {exc}", raw=info)
        err.__cause__ = exc
        if not self._internal_reported and self.on_warning is not None:
            self._internal_reported = True
            detail = "".join(traceback.format_exception(exc)).rstrip() if self.debug else ""
            self.on_warning(
                f"internal error decoding a frame ({err}); it was skipped: please report it with the "
                f"frame's bytes ({info[:REPORT_BYTES].hex()})"
                + (f"\n{detail}" if detail else "; --debug shows the traceback")
            )
        self._skip(err)

    def _implausible(self, reading: Reading) -> None:
        """Count each value the decoder left out as implausible; tell once per quantity which
        value, the limit and the likely cause (``contract.LIMITS``)."""
        for name, value in reading.implausible:
            self.stats.warn(IMPLAUSIBLE)
            limit = limit_for(name)
            if limit is None or limit.quantity in self._implausible_told or self.on_warning is None:
                continue
            self._implausible_told.add(limit.quantity)
            unit = f" {limit.unit}" if limit.unit else ""
            self.on_warning(
                f"warning: {name} = {value}{unit} is no measurement (outside {limit.low}..{limit.high}{unit}): "
                f"left out; likely {limit.cause}"
            )

    def _left_out(self, reasons: tuple[str, ...]) -> None:
        """Count a reading whose decoder left values out for want of a scale (a VSE list from an
        unknown meter type); tell each reason, which names the meter, once (the first
        ``LEFT_OUT_TOLD`` of them)."""
        self.stats.warn(LEFT_OUT)
        for reason in reasons:
            told = self._left_out_told
            if reason not in told and len(told) < LEFT_OUT_TOLD and self.on_warning is not None:
                told.add(reason)
                self.on_warning(f"warning: {reason}")

    def _check_hourly(self, reading: Reading) -> None:
        """An hourly list whose clock did not advance repeats stale counters (an Aidon has sent
        the 17:00 list again at 18:00: 0 kWh booked for one hour, double the next). The reading is
        printed as sent; the summary counts it and ``on_warning`` says so."""
        meter = reading.values.get("meter_id")
        stamp = reading.meter_time
        if stamp is not None and self._last_hourly.get(meter) == stamp:
            self.stats.warn(STALE_HOURLY)
            if self.on_warning is not None:
                self.on_warning(
                    f"warning: hourly list at {stamp.isoformat()} repeats the previous one's clock: its counters are stale"
                )
        self._last_hourly[meter] = stamp
