"""The one family of errors amsread raises on purpose.

Every error carries the bytes that caused it, so a skip can be logged, counted and replayed. The
pipeline counts errors by class (``type(err).__name__``), so each class names one reason.
"""

from __future__ import annotations


class AmsReadError(Exception):
    """Base class for every error amsread raises deliberately."""

    def __init__(self, message: str, *, raw: bytes = b"") -> None:
        super().__init__(message)
        self.raw = bytes(raw)


# --- user / environment errors -------------------------------------------------------------


class SourceError(AmsReadError):
    """A byte source could not be opened or read (no such port, permission denied, busy, bad file)."""

    exit_code = 2


class NoSuchDeviceError(SourceError):
    exit_code = 3


class PermissionDeniedError(SourceError):
    exit_code = 4


class PortBusyError(SourceError):
    exit_code = 5


class UnreadableFileError(SourceError):
    exit_code = 6


class SourceLostError(SourceError):
    """A source that was open went away (adapter unplugged, TCP peer closed)."""

    exit_code = 7


class KeyMaterialError(AmsReadError):
    """An encryption or authentication key was missing or malformed."""

    exit_code = 2


# --- framing ---------------------------------------------------------------------------------


class FrameError(AmsReadError):
    """A candidate HDLC frame was rejected; ``reason`` is a short stable word for counters."""

    reason = "frame"


class HeaderChecksumError(FrameError):
    reason = "bad HCS"


class FrameChecksumError(FrameError):
    reason = "bad FCS"


class FrameLengthError(FrameError):
    reason = "bad length"


class FrameFlagError(FrameError):
    reason = "no closing flag"


class FrameFormatError(FrameError):
    reason = "bad header"


class TruncatedFrameError(FrameError):
    reason = "truncated"


class SegmentError(FrameError):
    """HDLC segments, block-transfer blocks or M-Bus segments did not join into a message."""

    reason = "segment"


class MbusFrameError(FrameError):
    reason = "bad M-Bus frame"


# --- application layer -----------------------------------------------------------------------


class DecodeError(AmsReadError):
    """An information field could not be decoded into a DLMS message."""

    reason = "decode"


class LlcError(DecodeError):
    reason = "bad LLC"


class UnsupportedApduError(DecodeError):
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
