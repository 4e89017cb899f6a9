"""The one family of errors amsread raises on purpose, every class of it in this one module.

Every error carries the bytes that caused it, so a skip can be logged, counted and replayed. Each
class names one ``reason``, the short stable words the framer counts it under and the summary line
prints, and one ``exit_code``, the status the command line ends with when the error stops it.
"""

from __future__ import annotations

from typing import ClassVar


class AmsReadError(Exception):
    """Base class for every error amsread raises deliberately."""

    reason: ClassVar[str] = "error"
    exit_code: ClassVar[int] = 1
    #: What to tell the user once per run when this error is skipped (None: nothing beyond -v).
    advice: ClassVar[str | None] = None

    def __init__(self, message: str, *, raw: bytes = b"") -> None:
        super().__init__(message)
        self.raw = bytes(raw)


# --- user / environment errors -------------------------------------------------------------


class SourceError(AmsReadError):
    """A byte source could not be opened or read (no such port, permission denied, busy, bad file)."""

    reason = "source"
    exit_code = 2


class NoSuchDeviceError(SourceError):
    """No such port, device or host."""

    reason = "no such device"
    exit_code = 3


class PermissionDeniedError(SourceError):
    """The port or file exists but may not be opened."""

    reason = "permission denied"
    exit_code = 4


class PortBusyError(SourceError):
    """Another program holds the port (or the TCP port to listen on)."""

    reason = "port busy"
    exit_code = 5


class UnreadableFileError(SourceError):
    """A capture or record file that cannot be read or written as one."""

    reason = "unreadable file"
    exit_code = 6


class SourceLostError(SourceError):
    """A source that was open went away (adapter unplugged, TCP peer closed)."""

    reason = "source lost"
    exit_code = 7


class DestinationError(AmsReadError):
    """A destination URL that names no known scheme, or an address that is none."""

    reason = "destination"
    exit_code = 2


class StoreError(DestinationError):
    """The history database cannot be opened, migrated, read or written."""

    reason = "history database"
    exit_code = 2


class MqttError(DestinationError):
    """An MQTT destination cannot be set up: a bad broker URL, an unreadable password file, or
    a publisher used after ``close``. Never carries the password."""

    reason = "mqtt"
    exit_code = 2


class ShareError(DestinationError):
    """``--share`` cannot listen where it was asked to (other than a busy or forbidden port)."""

    reason = "share"
    exit_code = 2


class ConfigError(AmsReadError):
    """A ``--config`` file that cannot be read, is not TOML, or names an option ``run`` lacks."""

    reason = "config"
    exit_code = 2


class KeyMaterialError(AmsReadError):
    """An encryption or authentication key was missing or malformed."""

    reason = "key material"
    exit_code = 2


class SimulatorError(AmsReadError):
    """The simulated meter was asked for something no real meter of that family is."""

    reason = "simulator"
    exit_code = 2


# --- framing ---------------------------------------------------------------------------------


class FrameError(AmsReadError):
    """A candidate HDLC frame was rejected; ``reason`` is a short stable word for counters."""

    reason = "frame"


class HeaderChecksumError(FrameError):
    """The header check sequence (HCS) over a frame's header does not match."""

    reason = "bad HCS"


class FrameChecksumError(FrameError):
    """The frame check sequence (FCS) over the whole frame does not match."""

    reason = "bad FCS"


class FrameLengthError(FrameError):
    """A length field out of range, or shorter than the header it must cover."""

    reason = "bad length"


class FrameFlagError(FrameError):
    """No closing flag where the length field says the frame ends."""

    reason = "no closing flag"


class FrameFormatError(FrameError):
    """A header no HDLC frame of type 3 has (an address longer than 4 bytes)."""

    reason = "bad header"


class TruncatedFrameError(FrameError):
    """The input ended, or fell silent, inside a frame."""

    reason = "truncated"


class SegmentError(FrameError):
    """HDLC segments, block-transfer blocks or M-Bus segments did not join into a message."""

    reason = "segment"


class MbusFrameError(FrameError):
    """An M-Bus long frame with a wrong stop byte, or a CI that is no DLMS transport segment."""

    reason = "bad M-Bus frame"


class MbusChecksumError(MbusFrameError):
    """An M-Bus long frame whose checksum byte does not match the sum of C through data."""

    reason = "bad M-Bus checksum"


class MbusTruncatedError(MbusFrameError):
    """The input ended inside an M-Bus long frame."""

    reason = "truncated M-Bus frame"


class P1TelegramError(FrameError):
    """A P1 (DSMR) telegram that started well and then broke: a byte no telegram carries, no end."""

    reason = "bad P1 telegram"


class P1ChecksumError(P1TelegramError):
    """A P1 telegram whose CRC-16/ARC after ``!`` does not match its bytes from ``/`` to ``!``."""

    reason = "bad P1 CRC"


class P1TruncatedError(P1TelegramError):
    """A P1 telegram cut short: the input ended, the line fell silent, or a new ``/`` began."""

    reason = "truncated P1 telegram"


class MbusSegmentError(SegmentError):
    """M-Bus transport segments did not join into a message (one lost or out of order)."""

    reason = "M-Bus segment"


class BlockTransferError(SegmentError):
    """Block-transfer blocks did not join into a message (a block lost, repeated or out of place)."""

    reason = "block transfer"


# --- application layer -----------------------------------------------------------------------


class DecodeError(AmsReadError):
    """An information field could not be decoded into a DLMS message."""

    reason = "decode"


class LlcError(DecodeError):
    """An HDLC information field without the LLC header E6 E7 00."""

    reason = "bad LLC"


class UnsupportedApduError(DecodeError):
    """An APDU that is not a data-notification (nor a wrapper of one)."""

    reason = "unsupported APDU"


class LayoutError(DecodeError):
    """The data tree is well formed but does not match the list layout it claims to be."""

    reason = "bad layout"


class DecryptionError(DecodeError):
    """A ciphered APDU could not be decrypted: no key, wrong key, or a failed tag."""

    reason = "decryption failed"


class NothingDecodedError(DecodeError):
    """``decode`` was given something, but not one reading came of it (exit 1, as documented)."""


class MissingKeyError(DecryptionError):
    """The message is encrypted and no key was given: the commonest first-day trouble."""

    #: Said once per run on stderr: without it a new user sees empty output and no reason.
    advice = "these frames are encrypted: give the key from your grid company (--key)"


class WrongKeyError(DecryptionError):
    """A key was given but the tag does not verify or the plaintext is no DLMS message."""

    advice = (
        "decryption failed (the authentication tag does not match, or the result is no DLMS "
        "message): check the key (--key) and the authentication key (--auth-key)"
    )


class ScalerError(DecodeError):
    """A scaler-unit whose scaler is not an A-XDR integer (int8), or lies outside the range a
    meter can mean (``readings.SCALER_RANGE``): scaling by it would print nonsense or never end."""

    reason = "bad scaler"


class NonFiniteValueError(DecodeError):
    """A float32/float64 value that is NaN or infinite: not a measurement, and not JSON.

    The whole message is skipped, not the one value: skips are counted per message, so the summary
    tells of it; and a reading printed without the value would look like a meter that never sends
    that quantity, where this one sent a fault.
    """

    reason = "NaN or infinity"


class ValueRangeError(DecodeError):
    """A number too large or too small to be a reading (``readings.MAX_ADJUSTED``), which would
    print as hundreds of digits."""

    reason = "absurd value"


class InternalError(DecodeError):
    """A bug: the decoder raised something that is not an ``AmsReadError``. The pipeline counts it
    and goes on with the next frame; the original exception is the ``__cause__``."""

    reason = "internal error"


# --- output ----------------------------------------------------------------------------------


class OutputError(AmsReadError):
    """Standard output refused the data (closed, a full disk): the rows are lost, so say so and stop."""

    exit_code = 1


# --- reports ---------------------------------------------------------------------------------


class ReportError(AmsReadError):
    """A report cannot be made: no history, an unknown month, nothing to report on."""

    reason = "report"
    exit_code = 2


class TariffError(ReportError):
    """A grid tariff cannot be used: no such company, no tariff for the group and month, a bad file."""

    reason = "tariff"
