"""general-glo-ciphering (han-protocol.md §5.7): decrypt real captures, build and open our own, keys.

The Landis+Gyr E450 capture uses SC 30 (AES-GCM, 12-byte tag over SC ‖ AK; keys published in
amsreader-firmware issue 501), the Kaifa MA309 M-Bus capture SC 21 (AES-CTR, no tag; its key is in
the vector). A key must never show up anywhere a user or a log can see it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from amsread.cli.main import cli
from amsread.cosem.apdu import decode_head
from amsread.cosem.ciphering import (
    ApduUnwrapper,
    GeneralGloCiphering,
    Keys,
    decrypt,
    encrypt,
    parse_ciphered,
    parse_key,
    read_key_file,
)
from amsread.decode.decoder import DecodeOptions, ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.errors import DecodeError, DecryptionError, KeyMaterialError
from amsread.meters import maker_of_system_title
from amsread.wire.hdlc import FrameSplitter, build_frame
from amsread.wire.mbus import MbusAssembler, MbusSplitter
from helpers.vectors import raw, vector

LG = "doc_landisgyr_e450_gcm_encrypted"
LG_EK = "34743677397A24432646294A404E6352"
LG_AK = "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF"
LG_KEYS = Keys.from_hex(LG_EK, LG_AK)
KAIFA_PL = "fw_kaifa_mbus-gcm_1"
KAIFA_EK = vector(KAIFA_PL)["key"]
WRONG = "00112233445566778899AABBCCDDEEFF"
PLAIN = raw("fw_kaifa_list1_1")  # Kaifa list 1: 4117 W


def lg_apdu() -> bytes:
    (frame,) = FrameSplitter().feed(raw(LG))
    assert frame.information[:3] == b"\xe6\xe7\x00"
    return frame.information[3:]


def kaifa_apdu() -> bytes:
    frames = MbusSplitter().feed(raw(KAIFA_PL))
    assembler = MbusAssembler()
    apdus = [a for f in frames if (a := assembler.add(f)) is not None]
    assert len(apdus) == 1
    return apdus[0]


def readings_and_stats(data: bytes, keys: Keys | None) -> tuple[list, Pipeline]:
    pipeline = Pipeline()
    out = list(pipeline.readings([data], decoder=ReadingDecoder(DecodeOptions(keys=keys))))
    return out, pipeline


# --------------------------------------------------------------------------------------------
# the real captures
# --------------------------------------------------------------------------------------------


def test_landisgyr_envelope_fields() -> None:
    ca = parse_ciphered(lg_apdu())
    assert ca.system_title == bytes.fromhex("4c475a6772a9a111") and ca.system_title[:3] == b"LGZ"
    assert maker_of_system_title(ca.system_title) == "landisgyr"
    assert ca.security_control == 0x30 and ca.authenticated and ca.encrypted and ca.suite == 0
    assert ca.invocation_counter == 0x002180F6
    assert len(ca.authentication_tag or b"") == 12
    assert 5 + len(ca.ciphertext) + 12 == 94  # the A-XDR length byte (§5.7)


def test_landisgyr_decrypts_and_authenticates() -> None:
    _, plaintext = decrypt(lg_apdu(), LG_KEYS)
    assert plaintext.hex().startswith("0f002180fc0c07e7031c02130b14ff80000002" + "0e")
    invoke_id, stamp, _ = decode_head(plaintext)
    assert invoke_id == 0x2180FC
    assert stamp is not None and (
        stamp.year,
        stamp.month,
        stamp.day,
        stamp.hour,
        stamp.minute,
        stamp.second,
    ) == (
        2023,
        3,
        28,
        19,
        11,
        20,
    )


def test_landisgyr_rebuilds_byte_for_byte() -> None:
    """The declaration builds the capture back from its plaintext and fields (tag included)."""
    apdu = lg_apdu()
    ca, plaintext = decrypt(apdu, LG_KEYS)
    again = encrypt(
        plaintext,
        LG_KEYS,
        system_title=ca.system_title,
        invocation_counter=ca.invocation_counter,
        security_control=0x30,
    )
    assert again == apdu


def test_kaifa_ctr_decrypts() -> None:
    states = vector(KAIFA_PL)["source_states"]
    ca, plaintext = decrypt(kaifa_apdu(), Keys.from_hex(KAIFA_EK))
    assert ca.system_title.hex() == states["system_title"]
    assert ca.security_control == 0x21 and not ca.authenticated and ca.suite == 1
    assert f"{ca.invocation_counter:08x}" == states["frame_counter"]
    assert ca.authentication_tag is None
    assert plaintext.hex().startswith(states["decrypted_apdu_prefix"])
    assert len(kaifa_apdu()) == 1 + 1 + 8 + 3 + 341  # DB, 08, title, length 82 01 55, then 341 bytes


def test_encryption_key_alone_opens_an_authenticated_message() -> None:
    """GCM's keystream does not depend on AK: without it the tag is not checked, the data still read."""
    _, with_both = decrypt(lg_apdu(), LG_KEYS)
    _, with_ek = decrypt(lg_apdu(), Keys.from_hex(LG_EK))
    assert with_ek == with_both


# --------------------------------------------------------------------------------------------
# wrong and missing keys
# --------------------------------------------------------------------------------------------


def test_wrong_encryption_key_fails_the_tag() -> None:
    with pytest.raises(DecryptionError, match=r"^authentication tag mismatch \(wrong key\?\)$") as exc:
        decrypt(lg_apdu(), Keys.from_hex(WRONG, LG_AK))
    assert isinstance(exc.value, DecodeError) and exc.value.reason == "decryption failed"
    assert exc.value.raw == lg_apdu()


def test_wrong_authentication_key_fails_the_tag() -> None:
    with pytest.raises(DecryptionError, match="authentication tag mismatch"):
        decrypt(lg_apdu(), Keys.from_hex(LG_EK, WRONG))


def test_wrong_key_without_a_tag_is_caught_by_the_plaintext() -> None:
    with pytest.raises(DecryptionError, match=r"not a DLMS APDU \(wrong key\?\)"):
        decrypt(kaifa_apdu(), Keys.from_hex(WRONG))


def test_missing_key_says_so_and_names_the_sender() -> None:
    with pytest.raises(
        DecryptionError, match=r"encrypted message from LGZ 4c475a6772a9a111 but no key given"
    ):
        decrypt(lg_apdu(), Keys())


def test_wrong_key_frame_is_counted_and_the_next_frame_decodes() -> None:
    data = raw(LG) + PLAIN + raw(LG) + PLAIN
    readings, pipeline = readings_and_stats(data, Keys.from_hex(WRONG, LG_AK))
    assert pipeline.stats.errors == Counter({"decryption failed": 2})
    assert [r.values["active_power_import"] for r in readings] == [4117, 4117]
    assert (
        pipeline.stats.summary()
        == f"4 frames: 2 readings, 2 decryption failed; {len(data)} bytes, 0 discarded"
    )


def test_right_key_frames_interleave_with_plain_ones() -> None:
    readings, pipeline = readings_and_stats(raw(LG) + PLAIN + raw(LG), LG_KEYS)
    assert not pipeline.stats.errors
    assert [r.manufacturer for r in readings] == ["landisgyr", "kaifa", "landisgyr"]


def test_no_key_counts_each_encrypted_frame() -> None:
    errors: list = []
    pipeline = Pipeline(on_error=errors.append)
    readings = list(pipeline.readings([raw(LG) * 3 + PLAIN], decoder=ReadingDecoder()))
    assert len(readings) == 1
    assert pipeline.stats.errors == Counter({"decryption failed": 3})
    assert all("no key given" in str(e) for e in errors)


# --------------------------------------------------------------------------------------------
# build, then open: the declaration is the test-data generator
# --------------------------------------------------------------------------------------------

#: data-notification, invoke id 0, no date-time, body ``02 01 06 00 00 10 15`` (Kaifa list 1: 4117 W).
NOTIFICATION = bytes.fromhex("0f40000000" + "00" + "02010600001015")


@pytest.mark.parametrize("sc", [0x30, 0x31, 0x20, 0x21, 0x10])
def test_build_then_decrypt_round_trip(sc: int) -> None:
    plaintext = NOTIFICATION
    title = b"SAG\x10\x20\x02\x98\x02"
    apdu = encrypt(plaintext, LG_KEYS, system_title=title, invocation_counter=0x0A28, security_control=sc)
    assert apdu[0] == 0xDB and apdu[1:10] == b"\x08" + title
    ca = parse_ciphered(apdu)
    assert ca.security_control == sc and ca.invocation_counter == 0x0A28
    assert (ca.authentication_tag is not None) == bool(sc & 0x10)
    if sc & 0x20:
        assert plaintext not in apdu
    assert decrypt(apdu, LG_KEYS)[1] == plaintext
    # and the whole decoder reads it from an HDLC frame
    (reading,) = readings_and_stats(build_frame(b"\xe6\xe7\x00" + apdu), LG_KEYS)[0]
    assert reading.values["active_power_import"] == 4117
    assert reading.manufacturer == "sagemcom"  # named by the system title's FLAG id, not the layout


def test_long_plaintext_uses_the_long_length_form() -> None:
    plaintext = b"\x0f" + bytes(300)
    apdu = encrypt(plaintext, LG_KEYS, system_title=b"LGZ\x00\x00\x00\x00\x01", invocation_counter=1)
    assert apdu[10:13] == bytes((0x82,)) + (5 + 301 + 12).to_bytes(2, "big")
    assert decrypt(apdu, LG_KEYS)[1] == plaintext


def test_every_truncation_is_a_decode_error() -> None:
    apdu = lg_apdu()
    for n in range(len(apdu)):
        with pytest.raises(DecodeError):
            decrypt(apdu[:n], LG_KEYS)
    with pytest.raises(DecodeError):
        parse_ciphered(apdu + b"\x00")


def test_declaration_parses_what_it_builds() -> None:
    p = GeneralGloCiphering.parse(lg_apdu())
    assert p.length == 94 and p.security_control.value.authentication and not p.security_control.value.key_set
    assert GeneralGloCiphering.build(p) == lg_apdu()


def test_unwrapper_reports_the_maker_of_what_it_opened() -> None:
    unwrap = ApduUnwrapper(LG_KEYS)
    assert unwrap(lg_apdu())[:1] == b"\x0f"
    assert maker_of_system_title(unwrap.system_title) == "landisgyr"
    assert unwrap(b"\x0f\x00") == b"\x0f\x00" and maker_of_system_title(unwrap.system_title) is None


# --------------------------------------------------------------------------------------------
# keys: parsing, files, and never showing them
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        LG_EK,
        LG_EK.lower(),
        "0x" + LG_EK,
        " ".join(LG_EK[i : i + 2] for i in range(0, 32, 2)),
        "34:74:36:77:39:7A:24:43:26:46:29:4A:40:4E:63:52",
    ],
)
def test_key_formats(text: str) -> None:
    assert parse_key(text) == bytes.fromhex(LG_EK)


@pytest.mark.parametrize("text", [LG_EK[:-1], LG_EK + "00", LG_EK[:-1] + "G", ""])
def test_malformed_keys_are_refused_without_being_repeated(text: str) -> None:
    with pytest.raises(KeyMaterialError) as exc:
        parse_key(text, "encryption key")
    assert "encryption key must be 32 hex digits" in str(exc.value)
    assert LG_EK[:8].lower() not in str(exc.value).lower()


def test_keys_must_be_16_bytes() -> None:
    with pytest.raises(KeyMaterialError, match="16 bytes, got 15"):
        Keys(bytes(15))


def test_keys_never_print() -> None:
    options = DecodeOptions(keys=LG_KEYS)
    texts = [
        repr(LG_KEYS),
        str(LG_KEYS),
        repr(options),
        repr(ApduUnwrapper(LG_KEYS)),
        repr(ReadingDecoder(options).unwrap),
    ]
    for text in texts:
        for key in (LG_EK, LG_AK):
            assert key.lower() not in text.lower()
            assert repr(bytes.fromhex(key)) not in text
    assert repr(LG_KEYS) == "Keys(encryption_key=<set>, authentication_key=<set>)"
    assert repr(Keys.from_hex(LG_EK)) == "Keys(encryption_key=<set>, authentication_key=None)"


def test_key_file(tmp_path: Path) -> None:
    path = tmp_path / "meter.keys"
    path.write_text(f"# Netz Burgenland\nkey = {LG_EK}\n\nauth_key={LG_AK}  # GPK61\n")
    assert read_key_file(path) == LG_KEYS
    path.write_text(f"key={LG_EK}\nsecret {LG_AK}\n")
    with pytest.raises(KeyMaterialError, match="line 2: expected key=") as exc:
        read_key_file(path)
    assert LG_AK.lower() not in str(exc.value).lower()
    path.write_text(f"key={LG_EK}\nkey={LG_EK}\n")
    with pytest.raises(KeyMaterialError, match="line 2: key given twice"):
        read_key_file(path)
    with pytest.raises(KeyMaterialError, match="cannot read key file"):
        read_key_file(tmp_path / "missing.keys")


# --------------------------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------------------------


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), prog_name="amsread", env=env, catch_exceptions=False)


@pytest.fixture
def lg_file(tmp_path: Path) -> Path:
    path = tmp_path / "lg.bin"
    path.write_bytes(raw(LG) + PLAIN)
    return path


def test_cli_json_with_keys(lg_file: Path) -> None:
    result = run("json", str(lg_file), "--key", LG_EK, "--auth-key", LG_AK, "-q")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert (
        len(lines) == 2 and '"manufacturer": "landisgyr"' in lines[0] and '"meter_id": "30137181"' in lines[0]
    )


def test_cli_keys_from_environment_and_file(lg_file: Path, tmp_path: Path) -> None:
    env = {"AMSREAD_KEY": LG_EK, "AMSREAD_AUTH_KEY": LG_AK}
    assert run("csv", str(lg_file), "-q", env=env).stdout.count("30137181") == 1
    keys = tmp_path / "k"
    keys.write_text(f"key={LG_EK}\nauth_key={LG_AK}\n")
    assert run("decode", str(lg_file), "--key-file", str(keys), "--json", "-q").stdout.count("30137181") == 1
    # a key file beats the environment, an option beats both
    bad = {"AMSREAD_KEY": WRONG, "AMSREAD_AUTH_KEY": WRONG}
    assert run("json", str(lg_file), "--key-file", str(keys), "-q", env=bad).stdout.count("30137181") == 1
    assert (
        run("json", str(lg_file), "--key", LG_EK, "--auth-key", LG_AK, "-q", env=bad).stdout.count("30137181")
        == 1
    )


def test_cli_wrong_key_is_one_clear_counted_line(lg_file: Path) -> None:
    result = run("json", str(lg_file), "--key", WRONG, "--auth-key", LG_AK, "-v")
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1 and "4117" in result.stdout
    assert "skipped: decryption failed: authentication tag mismatch (wrong key?)" in result.stderr
    assert "2 frames: 1 reading, 1 decryption failed" in result.stderr


def test_cli_malformed_key_is_a_usage_error(lg_file: Path) -> None:
    result = run("json", str(lg_file), "--key", LG_EK[:-2])
    assert result.exit_code == 2
    assert "encryption key must be 32 hex digits, got 30" in result.stderr
    assert LG_EK[:-2].lower() not in result.output.lower()


def _grep(texts: list[str], key: str) -> list[str]:
    """Every place ``key`` shows, in hex either case or as Python bytes."""
    needles = [key.lower(), repr(bytes.fromhex(key))[2:-1].lower()]
    return [t[:80] for t in texts for n in needles if n in t.lower()]


@pytest.mark.parametrize("right", [True, False], ids=["right-key", "wrong-key"])
def test_keys_appear_in_no_output(tmp_path: Path, right: bool) -> None:
    """stdout, stderr with -v, and the --record file of a real process hold no trace of the keys."""
    ek, ak = (LG_EK, LG_AK) if right else (WRONG, LG_AK.lower())
    capture = tmp_path / "in.bin"
    capture.write_bytes(raw(LG) + PLAIN + raw(LG))
    record = tmp_path / "rec.bin"
    outputs = []
    for command in (["json"], ["csv"], ["decode"]):
        args = [*command, str(capture), "--key", ek, "--auth-key", ak, "-v"]
        if command != ["decode"]:
            args += ["--record", str(record)]
        proc = subprocess.run(
            [sys.executable, "-m", "amsread", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
        assert proc.returncode == 0, proc.stderr
        outputs += [proc.stdout, proc.stderr]
        assert ("30137181" in proc.stdout) == right
        assert ("decryption failed" in proc.stderr) != right
    outputs.append(record.read_bytes().hex())
    outputs.append(record.read_bytes().decode("latin-1"))
    assert record.read_bytes() == capture.read_bytes() * 2
    for key in (ek, ak):
        assert _grep(outputs, key) == []
    # also a malformed key in an error line
    proc = subprocess.run(
        [sys.executable, "-m", "amsread", "json", str(capture), "--key", ek[:-1] + "Z", "--debug"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert _grep([proc.stdout, proc.stderr], ek) == [] and ek[:-1].lower() not in proc.stderr.lower()


def test_kaifa_values_via_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "pl.hex"
    path.write_text(vector(KAIFA_PL)["hex"])
    result = run(
        "csv", str(path), "--key", KAIFA_EK, "-q", "--columns", "meter_id,active_energy_import,voltage_l1"
    )
    assert result.stdout == "meter_id,active_energy_import,voltage_l1\n1KFM0200169986,278.041,227.1\n"
    assert Decimal("278.041") == Decimal(result.stdout.splitlines()[1].split(",")[1])
