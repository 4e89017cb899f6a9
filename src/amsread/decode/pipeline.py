"""Envelopes to readings with the decoder the caller hands in: catch, count, continue.

``Pipeline`` is the framer plus one step: each whole message goes to a ``Decoder`` (usually a
``decode.decoder.ReadingDecoder``, never imported here), every decode error is counted and
skipped like a frame error, and readings that are printed but suspect are counted as warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Final, Protocol, Unpack

from amsread.contract import Reading
from amsread.errors import AmsReadError
from amsread.wire.framer import Envelope, Framer, FramerOptions

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
        #: meter id -> clock of its last hourly list, to notice one that was sent again
        self._last_hourly: dict[str | None, object] = {}

    def readings(self, source: Iterable[bytes], *, decoder: Decoder, live: bool = False) -> Iterator[Reading]:
        """Decoded readings; every decode error is counted and skipped."""
        for envelope in self.messages(source, live=live):
            try:
                reading = decoder.decode(envelope)
            except AmsReadError as err:
                self._skip(err)
                continue
            if reading is not None:
                self.stats.readings += 1
                if reading.list == 3:
                    self._check_hourly(reading)
                yield reading

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
