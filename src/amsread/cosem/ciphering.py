"""DLMS general-glo-ciphering (tag 0xDB): the encrypted push, and the keys that open it.

``DB | 08 <system title, 8> | <A-XDR length> | SC | IC (4) | ciphertext | tag (12, with the A bit)``

Sources: DLMS Green Book GB9 §9.2.7.2.4 (Fig. 29), TINETZ p.7-8, KAM-DK §6.

* The security control byte SC says what was done: bit 4 authentication, bit 5 encryption, bit 6
  key set, bit 7 compression, bits 3-0 the security suite (0 and 1 are AES-128). Meters seen:
  ``30`` (authenticated + encrypted: Kamstrup DK, Landis+Gyr E450 AT), ``20``/``21`` (encrypted
  only: Sagemcom and Kaifa in Austria and Poland).
* The IV is the system title and the invocation counter (8 + 4 bytes).
* Authenticated + encrypted: AES-128-GCM with a 12-byte tag over AAD = SC ‖ AK. The tag is checked
  when the authentication key (AK) is known; without it the ciphertext is still decrypted (GCM's
  keystream does not depend on AK) but only sanity-checked, because many grid operators hand out
  the encryption key alone. ``cryptography``'s ``AESGCM`` insists on 16-byte tags, so GCM runs
  through ``Cipher``/``modes.GCM`` with ``min_tag_length=12``.
* Encrypted only: no tag; AES-CTR from the counter block IV ‖ ``00 00 00 02`` (what GCM would use).
  A wrong key then shows only as plaintext that is not a DLMS APDU.

Keys are secrets that users paste into shell history and config files: a ``Keys`` object prints as
``Keys(encryption_key=<set>, ...)``, and no error message, log line or record file ever carries a
key (the tests check every output of a CLI run).

``ApduUnwrapper`` is the hook ``ReadingDecoder.unwrap`` calls: it joins general-block-transfer
blocks (``gbt``) and removes the ciphering, in whatever nesting the meter uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import construct as c
from construct import len_, this

from amsread.cosem.axdr import PARSE_ERRORS, AxdrLength
from amsread.cosem.gbt import BlockAssembler
from amsread.cosem.tags import DATA_NOTIFICATION, GENERAL_BLOCK_TRANSFER, GENERAL_GLO_CIPHERING
from amsread.errors import DecodeError, DecryptionError, KeyMaterialError, MissingKeyError, WrongKeyError

KEY_LENGTH: Final = 16
TAG_LENGTH: Final = 12
SYSTEM_TITLE_LENGTH: Final = 8
#: SC + invocation counter: the bytes the A-XDR length counts besides ciphertext and tag.
_HEADER_LENGTH: Final = 5
#: What a decrypted push may start with: data-notification, event-notification, block transfer.
_PLAIN_TAGS: Final = frozenset({DATA_NOTIFICATION, 0xC2, GENERAL_BLOCK_TRANSFER})

# --------------------------------------------------------------------------------------------
# construct declaration
# --------------------------------------------------------------------------------------------

#: The security control byte (GB9 §9.2.7.2.4, Table 38 "security control byte").
SecurityControl = c.BitStruct(
    "compression" / c.Flag,
    "key_set" / c.Flag,
    "encryption" / c.Flag,
    "authentication" / c.Flag,
    "suite" / c.BitsInteger(4),
)

#: general-glo-ciphering APDU (GB9 §9.2.7.2.4 Fig. 29). The length is rebuilt and the tag is
#: present exactly when the authentication bit is set, so one declaration parses a push and builds
#: one from chosen fields (``encrypt``).
GeneralGloCiphering = c.Struct(
    "tag" / c.Const(bytes((GENERAL_GLO_CIPHERING,))),
    "system_title_length" / c.Const(bytes((SYSTEM_TITLE_LENGTH,))),
    "system_title" / c.Bytes(SYSTEM_TITLE_LENGTH),
    "length"
    / c.Rebuild(
        AxdrLength,
        _HEADER_LENGTH + len_(this.ciphertext) + this.security_control.value.authentication * TAG_LENGTH,
    ),
    "security_control" / c.RawCopy(SecurityControl),
    "invocation_counter" / c.Int32ub,
    "ciphertext"
    / c.Bytes(this.length - _HEADER_LENGTH - this.security_control.value.authentication * TAG_LENGTH),
    "authentication_tag" / c.If(this.security_control.value.authentication, c.Bytes(TAG_LENGTH)),
    c.Terminated,
)


@dataclass(frozen=True, slots=True)
class CipheredApdu:
    """A parsed general-glo-ciphering APDU, before decryption."""

    system_title: bytes
    security_control: int
    invocation_counter: int
    ciphertext: bytes
    authentication_tag: bytes | None

    @property
    def authenticated(self) -> bool:
        return bool(self.security_control & 0x10)

    @property
    def encrypted(self) -> bool:
        return bool(self.security_control & 0x20)

    @property
    def suite(self) -> int:
        return self.security_control & 0x0F

    @property
    def iv(self) -> bytes:
        """System title ‖ invocation counter: GCM's 96-bit IV."""
        return self.system_title + self.invocation_counter.to_bytes(4, "big")

    def describe(self) -> str:
        """``LGZ 4c475a6772a9a111``: who sent it, for error messages (a title is not a secret)."""
        flag = self.system_title[:3].decode("latin-1")
        flag = flag if flag.isalpha() else "?"
        return f"{flag} {self.system_title.hex()}"


def parse_ciphered(apdu: bytes) -> CipheredApdu:
    """Parse a ``DB`` APDU; a malformed one is a ``DecodeError`` carrying the bytes."""
    try:
        p = GeneralGloCiphering.parse(apdu)
    except PARSE_ERRORS as e:
        raise DecodeError(f"cannot decode general-glo-ciphering: {str(e).splitlines()[0]}", raw=apdu) from e
    return CipheredApdu(
        p.system_title, p.security_control.data[0], p.invocation_counter, p.ciphertext, p.authentication_tag
    )


# --------------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class Keys:
    """The encryption key (EK, "GUEK", Kamstrup GPK60) and the authentication key (AK, GPK61).

    Both 16 bytes, both optional. Never printed: ``repr`` and ``str`` only say whether each is set.
    """

    encryption_key: bytes | None = None
    authentication_key: bytes | None = None

    def __post_init__(self) -> None:
        for name, key in (
            ("encryption key", self.encryption_key),
            ("authentication key", self.authentication_key),
        ):
            if key is not None and (not isinstance(key, bytes) or len(key) != KEY_LENGTH):
                size = len(key) if isinstance(key, (bytes, bytearray)) else "no"
                raise KeyMaterialError(f"{name} must be {KEY_LENGTH} bytes, got {size}")

    def __repr__(self) -> str:
        ek = "<set>" if self.encryption_key is not None else "None"
        ak = "<set>" if self.authentication_key is not None else "None"
        return f"Keys(encryption_key={ek}, authentication_key={ak})"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return self.encryption_key is not None or self.authentication_key is not None

    @classmethod
    def from_hex(cls, key: str | None = None, auth_key: str | None = None) -> Keys:
        """Keys from hex text (``--key``, ``AMSREAD_KEY``); None leaves a key unset."""
        return cls(
            parse_key(key, "encryption key") if key is not None else None,
            parse_key(auth_key, "authentication key") if auth_key is not None else None,
        )


_KEY_SEPARATORS = re.compile(r"[\s:_-]+")


def parse_key(text: str, what: str = "key") -> bytes:
    """A 16-byte key from 32 hex digits, as grid operators print them (``0x``, spaces, colons ok).

    The error never repeats the text: it may be a key with one typo.
    """
    digits = _KEY_SEPARATORS.sub("", text.strip())
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    if not re.fullmatch(r"[0-9a-fA-F]*", digits):
        raise KeyMaterialError(f"{what} must be {2 * KEY_LENGTH} hex digits; it contains other characters")
    if len(digits) != 2 * KEY_LENGTH:
        raise KeyMaterialError(f"{what} must be {2 * KEY_LENGTH} hex digits, got {len(digits)}")
    return bytes.fromhex(digits)


#: Names a key file may use, and the ``Keys`` field each one sets.
_KEY_FILE_NAMES: Final = {
    "key": "encryption_key",
    "encryption_key": "encryption_key",
    "ek": "encryption_key",
    "auth_key": "authentication_key",
    "authentication_key": "authentication_key",
    "ak": "authentication_key",
}


def read_key_file(path: str | Path) -> Keys:
    """Keys from a file of ``key=<hex>`` and ``auth_key=<hex>`` lines (``#`` comments, blank lines).

    A file keeps keys out of shell history and ``ps`` listings. Errors name the line, never its text.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise KeyMaterialError(
            f"cannot read key file {path}: {getattr(e, 'strerror', None) or 'not text'}"
        ) from None
    found: dict[str, bytes] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        field = _KEY_FILE_NAMES.get(name.strip().lower())
        if not sep or field is None:
            raise KeyMaterialError(
                f"key file {path}, line {number}: expected key=<32 hex digits> or auth_key=..."
            )
        if field in found:
            raise KeyMaterialError(f"key file {path}, line {number}: {name.strip()} given twice")
        try:
            found[field] = parse_key(value, name.strip())
        except KeyMaterialError as e:
            raise KeyMaterialError(f"key file {path}, line {number}: {e}") from None
    return Keys(**found)


# --------------------------------------------------------------------------------------------
# decryption and encryption
# --------------------------------------------------------------------------------------------


def decrypt(apdu: bytes, keys: Keys) -> tuple[CipheredApdu, bytes]:
    """Open a ``DB`` APDU: the parsed envelope and the plaintext APDU inside it.

    Raises ``DecryptionError`` (a ``DecodeError``) for a missing key, a tag that does not verify, or
    plaintext that is no DLMS APDU; the message says which, and never contains a key.
    """
    ca = parse_ciphered(apdu)
    who = ca.describe()
    if ca.security_control & 0x80:
        raise DecryptionError(f"compressed ciphered APDU from {who} is not supported", raw=apdu)
    if ca.suite > 1:
        raise DecryptionError(
            f"security suite {ca.suite} from {who} is not supported (AES-128 only)", raw=apdu
        )
    ek, ak = keys.encryption_key, keys.authentication_key
    if not ca.encrypted:
        # authentication only: the APDU travels in clear with a GMAC tag over SC ‖ AK ‖ plaintext
        if ca.authenticated and ek is not None and ak is not None:
            _check_tag(ek, ca, bytes((ca.security_control,)) + ak + ca.ciphertext, b"", apdu)
        return ca, ca.ciphertext
    if ek is None:
        raise MissingKeyError(
            f"encrypted message from {who} but no key given (use --key, AMSREAD_KEY or --key-file)", raw=apdu
        )
    if ca.authenticated and ak is not None:
        plaintext = _check_tag(ek, ca, bytes((ca.security_control,)) + ak, ca.ciphertext, apdu)
    else:
        # GCM encrypts with CTR from IV ‖ 00000002; without AK the tag cannot be checked
        decryptor = _aes(ek, lambda modes: modes.CTR(ca.iv + b"\x00\x00\x00\x02")).decryptor()
        plaintext = decryptor.update(ca.ciphertext) + decryptor.finalize()
        if not plaintext or plaintext[0] not in _PLAIN_TAGS:
            raise WrongKeyError(f"decrypted message from {who} is not a DLMS APDU (wrong key?)", raw=apdu)
    return ca, plaintext


def _aes(key: bytes, mode: Callable[[Any], Any]) -> Any:
    """AES with the mode ``mode(cryptography's modes)`` builds.

    cryptography is imported here, on the first ciphered frame, not with the module: most captures
    have none, and the import was a tenth of ``amsread csv``'s start-up (issue 15)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), mode(modes))


def _check_tag(ek: bytes, ca: CipheredApdu, aad: bytes, ciphertext: bytes, apdu: bytes) -> bytes:
    tag = ca.authentication_tag or b""
    from cryptography.exceptions import InvalidTag

    decryptor = _aes(ek, lambda modes: modes.GCM(ca.iv, tag, min_tag_length=TAG_LENGTH)).decryptor()
    decryptor.authenticate_additional_data(aad)
    plaintext = decryptor.update(ciphertext)
    try:
        decryptor.finalize()
    except InvalidTag:
        raise WrongKeyError("authentication tag mismatch (wrong key?)", raw=apdu) from None
    return plaintext


def encrypt(
    plaintext: bytes,
    keys: Keys,
    *,
    system_title: bytes,
    invocation_counter: int,
    security_control: int = 0x30,
) -> bytes:
    """Build a ``DB`` APDU around ``plaintext``, as a meter would (the demo meter and the tests).

    ``security_control`` 0x30 (GCM, tag over SC ‖ AK) needs both keys; 0x20/0x21 (CTR, no tag) the
    encryption key only; 0x10 (authentication only) sends ``plaintext`` in clear with a tag.
    """
    sc = SecurityControl.parse(bytes((security_control,)))
    iv = system_title + invocation_counter.to_bytes(4, "big")
    ek, ak = keys.encryption_key, keys.authentication_key
    if ek is None or (sc.authentication and ak is None):
        raise KeyMaterialError("encrypt needs the encryption key, and the authentication key for SC bit 4")
    tag: bytes | None = None
    if sc.authentication and ak is not None:
        encryptor = _aes(ek, lambda modes: modes.GCM(iv)).encryptor()
        if sc.encryption:
            encryptor.authenticate_additional_data(bytes((security_control,)) + ak)
            body = encryptor.update(plaintext) + encryptor.finalize()
        else:
            encryptor.authenticate_additional_data(bytes((security_control,)) + ak + plaintext)
            encryptor.finalize()
            body = plaintext
        tag = encryptor.tag[:TAG_LENGTH]
    elif sc.encryption:
        ctr = _aes(ek, lambda modes: modes.CTR(iv + b"\x00\x00\x00\x02")).encryptor()
        body = ctr.update(plaintext) + ctr.finalize()
    else:
        body = plaintext
    return GeneralGloCiphering.build(
        {
            "system_title": system_title,
            "security_control": {"value": dict(sc)},
            "invocation_counter": invocation_counter,
            "ciphertext": body,
            "authentication_tag": tag,
        }
    )


# --------------------------------------------------------------------------------------------
# the decoder's unwrap hook
# --------------------------------------------------------------------------------------------


class ApduUnwrapper:
    """``ReadingDecoder.unwrap``: block transfer joined and ciphering removed, to a plain APDU.

    Called with every APDU; returns the APDU to decode, or None while block-transfer blocks wait
    for the rest of their message. Meters nest the two either way (GBT blocks of a ciphered APDU,
    or a ciphered GBT), so both are peeled until neither is left. ``system_title`` is the title of
    the last ciphered APDU opened (None for a plain one): the decoder names the manufacturer by it.
    """

    MAX_DEPTH: Final = 4

    def __init__(self, keys: Keys | None = None) -> None:
        self.keys = keys or Keys()
        self.blocks = BlockAssembler()
        self.system_title: bytes | None = None

    def __repr__(self) -> str:
        return f"ApduUnwrapper({self.keys!r})"

    def __call__(self, apdu: bytes) -> bytes | None:
        self.system_title = None
        for _ in range(self.MAX_DEPTH):
            tag = apdu[0] if apdu else None
            if tag == GENERAL_BLOCK_TRANSFER:
                joined = self.blocks.add(apdu)
                if joined is None:
                    return None
                apdu = joined
            elif tag == GENERAL_GLO_CIPHERING:
                ca, apdu = decrypt(apdu, self.keys)
                self.system_title = ca.system_title
            else:
                return apdu
        raise DecodeError(f"APDU wrapped more than {self.MAX_DEPTH} times", raw=apdu)
