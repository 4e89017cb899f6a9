"""``amsread decode``, ``csv`` and ``json`` on real captures: exact output, exit codes, error paths.

Most tests run the real entry point ``amsread.cli.main`` in-process inside ``CliRunner``'s
isolation (so the exit code and the one-line ``Error:`` mapping are the console script's); two run
``python -m amsread`` as a subprocess to prove a real process prints no traceback.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from amsread.contract import COLUMNS
from amsread.cosem.axdr import Data
from amsread.cosem.tags import TAG
from amsread.wire.hdlc import build_frame
from helpers.cli import run
from helpers.vectors import raw

AIDON_L1 = raw("doc_aidon_6534_list1")  # P+ 512 W
AIDON_L1_HEX = AIDON_L1.hex()
#: A lone Aidon list 1 names no maker: the L+G E350 sends the same bytes (issue 13).
AIDON_L1_JSON = '{"list": 1, "active_power_import": 512}'
AIDON_L3 = raw(
    "amshan_aidon6525_list3_1"
)  # voltage_l1 227.6 V: 2276 x 0.1 in binary floats is 227.60000000000002
KAMSTRUP_1P = raw("fw_kamstrup_list2_7")  # no L2/L3
AIDON_L2_INFO = raw("doc_aidon_6534_list2")[9:-3]  # the information field (LLC first)

HEADER = ",".join(COLUMNS)
AIDON_L3_ROW = (
    ",2020-01-21T16:00:00+01:00,aidon,3,AIDON_V0001,7359992892587665,6525,280,0,0,128,"
    "1.3,,0.9,227.6,230.3,230.9,22721.38,0.00,582.43,1708.43"
)
KAMSTRUP_1P_ROW = ",2022-02-05T13:00:10+01:00,kamstrup,2,Kamstrup_V0001,5706567271533207,6861111BN242101040,616,0,83,0,2.90,,,226,,,,,,"
AIDON_L1_ROW = ",,,1,,,,512" + "," * 13  # a lone list 1 names no maker (issue 13)
AIDON_L1_NAMED_ROW = ",,aidon,1,,,,512" + "," * 13  # after a list 3 of the same meter

LLC = b"\xe6\xe7\x00"


def spaced(data: bytes, sep: str = " ", prefix: str = "") -> str:
    return sep.join(f"{prefix}{b:02X}" for b in data)


def capture(tmp_path: Path, data: bytes | str, name: str = "capture.bin") -> str:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return str(path)


# --------------------------------------------------------------------------------------------
# decode: hex from anywhere
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        [AIDON_L1_HEX],
        spaced(AIDON_L1).split(),
        [spaced(AIDON_L1)],
        [spaced(AIDON_L1, ":")],
        [spaced(AIDON_L1, ", ", "0x")],
        spaced(AIDON_L1, " ", "0x").split(),
        [spaced(AIDON_L1).lower()],
    ],
    ids=["one-run", "args", "spaces", "colons", "0x-commas", "0x-args", "lower"],
)
def test_decode_hex_arguments(args: list[str]) -> None:
    code, out, err = run("decode", "--json", *args)
    assert code == 0, err
    assert out == AIDON_L1_JSON + "\n"
    assert "Traceback" not in err


def test_decode_forum_line() -> None:
    line = f"Jan 21 16:00:10 hanreader[412]: RX 44 bytes: {spaced(AIDON_L1)} (crc ok) # from the wiki"
    code, out, err = run("decode", "--json", line)
    assert code == 0, err
    assert out == AIDON_L1_JSON + "\n"


def test_decode_listing() -> None:
    code, out, err = run("decode", AIDON_L1_HEX)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["meter_time", "-"]
    assert lines[1].split() == ["manufacturer", "-"]
    assert lines[2].split()[:2] == ["list", "1"]
    assert lines[3].split() == ["active_power_import", "512", "W", "1-0:1.7.0.255"]
    assert len(lines) == 4
    assert err.strip() == "1 frame: 1 reading; 44 bytes, 0 discarded"


def test_decode_listing_of_several_frames_is_blank_line_separated() -> None:
    code, out, _ = run("decode", (AIDON_L3 + AIDON_L1).hex())
    assert code == 0
    blocks = out.split("\n\n")
    assert len(blocks) == 2
    assert "voltage_l1" in blocks[0] and "227.6 V" in blocks[0]
    assert "22721.38 kWh" in blocks[0]
    assert blocks[1].splitlines()[-1].split() == ["active_power_import", "512", "W", "1-0:1.7.0.255"]


@pytest.mark.parametrize("form", ["raw", "hex", "hex-lines"])
def test_decode_file(form: str, tmp_path: Path) -> None:
    data = AIDON_L3 + AIDON_L1
    content: bytes | str = {
        "raw": data,
        "hex": data.hex(),
        "hex-lines": f"# two frames\n{spaced(AIDON_L3)}\n{spaced(AIDON_L1)}\n",
    }[form]
    code, out, err = run("decode", "--json", capture(tmp_path, content))
    assert code == 0, err
    lines = out.splitlines()
    # the list 3 before it named the meter, so this list 1 is Aidon's (issue 13)
    assert len(lines) == 2 and lines[1] == '{"manufacturer": "aidon", "list": 1, "active_power_import": 512}'
    assert json.loads(lines[0], parse_float=Decimal)["voltage_l1"] == Decimal("227.6")


@pytest.mark.parametrize("form", ["raw", "hex"])
def test_decode_stdin(form: str) -> None:
    data: bytes | str = AIDON_L1 if form == "raw" else spaced(AIDON_L1) + "\n"
    code, out, err = run("decode", "--json", "-", input=data)
    assert code == 0, err
    assert out == AIDON_L1_JSON + "\n"


def test_decode_without_data_is_a_usage_error() -> None:
    code, out, err = run("decode")
    assert code == 2
    assert out == ""
    assert "Traceback" not in err


def test_decode_text_without_hex() -> None:
    code, out, err = run("decode", "hello", "world")
    assert code == 1
    assert out == ""
    assert err.count("Error:") == 1 and "no hex" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------------------------
# malformed hex
# --------------------------------------------------------------------------------------------

ODD = AIDON_L1_HEX[:-1]  # one digit short


@pytest.mark.parametrize("where", ["file", "stdin"])
def test_odd_hex_digits_is_one_error_line(where: str, tmp_path: Path) -> None:
    if where == "file":
        code, out, err = run("json", capture(tmp_path, ODD + "\n", "odd.hex"))
    else:
        code, out, err = run("json", "-", input=ODD + "\n")
    assert code != 0
    assert out == ""
    error_lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and "odd number of hex digits" in error_lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("text", [ODD, spaced(AIDON_L1)[:-1]], ids=["run", "spaced"])
def test_odd_hex_digits_in_arguments_is_an_error(text: str) -> None:
    code, out, err = run("decode", text)
    assert code != 0
    assert out == ""
    assert err.count("Error:") == 1


def test_odd_hex_digits_real_process(tmp_path: Path) -> None:
    path = capture(tmp_path, ODD, "odd.hex")
    proc = subprocess.run(
        [sys.executable, "-m", "amsread", "json", path], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 6  # UnreadableFileError
    assert proc.stdout == ""
    assert proc.stderr.startswith("Error: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_missing_file(tmp_path: Path) -> None:
    code, out, err = run("csv", str(tmp_path / "nowhere.bin"))
    assert code == 6
    assert out == ""
    assert err.strip() == f"Error: no such file: {tmp_path / 'nowhere.bin'}"


# --------------------------------------------------------------------------------------------
# csv
# --------------------------------------------------------------------------------------------


def test_csv_header_once_and_exact_rows(tmp_path: Path) -> None:
    code, out, err = run("csv", capture(tmp_path, AIDON_L3 + KAMSTRUP_1P + AIDON_L1))
    assert code == 0, err
    assert out.splitlines() == [HEADER, AIDON_L3_ROW, KAMSTRUP_1P_ROW, AIDON_L1_NAMED_ROW]
    assert out.count("received_at") == 1
    assert err.strip() == "3 frames: 3 readings; 609 bytes, 0 discarded"


def test_csv_values_are_exact_decimals(tmp_path: Path) -> None:
    _, out, _ = run("csv", capture(tmp_path, AIDON_L3))
    row = dict(zip(COLUMNS, out.splitlines()[1].split(","), strict=True))
    assert row["voltage_l1"] == "227.6"  # not 227.59999999999997 or 227.60000000000002
    assert row["active_energy_import"] == "22721.38"  # not 22721.379999
    assert row["active_energy_export"] == "0.00"  # the meter's 10 Wh resolution, even at zero
    assert row["current_l2"] == ""  # a 3-wire Aidon sends no IL2: empty, never 0


def test_csv_no_header(tmp_path: Path) -> None:
    code, out, _ = run("csv", "--no-header", capture(tmp_path, AIDON_L3 + AIDON_L1))
    assert code == 0
    assert out.splitlines() == [AIDON_L3_ROW, AIDON_L1_NAMED_ROW]


def test_csv_columns_order_and_absent_values(tmp_path: Path) -> None:
    path = capture(tmp_path, AIDON_L3 + raw("fw_kamstrup_dklist_1") + KAMSTRUP_1P)
    code, out, err = run("csv", path, "--columns", "voltage_l1,meter_time, power_factor,current_l2")
    assert code == 0, err
    assert out.splitlines() == [
        "voltage_l1,meter_time,power_factor,current_l2",
        "227.6,2020-01-21T16:00:00+01:00,,",
        "233,2022-02-01T09:17:20+01:00,0.04,939.55",  # power factor in hundredths
        "226,2022-02-05T13:00:10+01:00,,",
    ]


def test_csv_text_with_carriage_return_is_one_record(tmp_path: Path) -> None:
    info = AIDON_L2_INFO.replace(b"6534", b"65\r4")
    code, out, _ = run("csv", capture(tmp_path, build_frame(info, destination=b"\x41", source=b"\x08\x83")))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert [len(row) for row in rows] == [len(COLUMNS)] * 2
    # control characters in meter text are shown escaped (\x0d), so a row is always one line
    assert rows[1][COLUMNS.index("meter_type")] == "65\\x0d4"


def test_csv_empty_input(tmp_path: Path) -> None:
    code, out, err = run("csv", capture(tmp_path, b""))
    assert code == 0
    assert out == ""
    assert err.strip() == "0 frames; 0 bytes, 0 discarded"


# --------------------------------------------------------------------------------------------
# json
# --------------------------------------------------------------------------------------------


def test_json_one_object_per_line_in_contract_order(tmp_path: Path) -> None:
    dk = raw("fw_kamstrup_dklist_1")
    code, out, err = run("json", capture(tmp_path, AIDON_L3 + dk + AIDON_L1))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3 and out.endswith("\n")
    for line in lines:
        obj = json.loads(line, parse_float=Decimal)
        keys = list(obj)
        contract = [k for k in keys if k in COLUMNS]
        assert contract == sorted(contract, key=COLUMNS.index)
        # contract columns first, then the extras (per-phase powers, power factor, unnamed codes)
        assert keys[: len(contract)] == contract
    dk_keys = list(json.loads(lines[1]))
    assert dk_keys[:5] == [
        "meter_time",
        "manufacturer",
        "list_version",
        "active_power_import",
        "active_power_export",
    ]
    assert dk_keys[-3:] == ["active_energy_import_l1", "active_energy_import_l2", "active_energy_import_l3"]
    assert "1-1:0.0.1.255" in dk_keys and "received_at" not in dk_keys


def test_json_numbers_are_exact(tmp_path: Path) -> None:
    _, out, _ = run("json", capture(tmp_path, AIDON_L3))
    assert '"voltage_l1": 227.6,' in out
    assert '"active_energy_import": 22721.38,' in out
    assert '"active_energy_export": 0.00,' in out
    assert '"current_l2"' not in out
    obj = json.loads(out, parse_float=Decimal)
    assert obj["reactive_energy_export"] == Decimal("1708.43")
    assert obj["active_power_import"] == 280 and isinstance(obj["active_power_import"], int)


def test_json_empty_stdin() -> None:
    code, out, err = run("json", "-", input=b"")
    assert code == 0
    assert out == ""
    assert err.strip() == "0 frames; 0 bytes, 0 discarded"


# --------------------------------------------------------------------------------------------
# unknown layouts and malformed messages
# --------------------------------------------------------------------------------------------


def _data(tag: int, value: object) -> dict[str, object]:
    return {"tag": tag, "value": value}


def _obis(text: str) -> dict[str, object]:
    a, rest = text.split("-")
    b, cdef = rest.split(":")
    return _data(TAG.OCTET_STRING, bytes([int(a), int(b), *(int(x) for x in cdef.split("."))]))


def _notification(body: dict[str, object]) -> bytes:
    apdu = b"\x0f\x40\x00\x00\x00\x00" + Data.build(body)
    return build_frame(LLC + apdu, destination=b"\x41", source=b"\x08\x83")


def test_unknown_pair_list_decodes_generically(tmp_path: Path) -> None:
    body = _data(
        TAG.STRUCTURE,
        [
            _obis("1-0:1.7.0.255"),
            _data(TAG.DOUBLE_LONG_UNSIGNED, 500),
            _obis("1-0:99.1.0.255"),
            _data(TAG.DOUBLE_LONG_UNSIGNED, 1234),
            _obis("0-0:96.13.0.255"),
            _data(TAG.VISIBLE_STRING, b"hello"),
            _obis("0-0:96.14.0.255"),
            _data(TAG.OCTET_STRING, b"\x01\x02"),
        ],
    )
    code, out, err = run("json", capture(tmp_path, _notification(body)))
    assert code == 0, err
    assert out.splitlines() == [
        '{"active_power_import": 500, "1-0:99.1.0.255": 1234, "0-0:96.13.0.255": "hello", "0-0:96.14.0.255": "0102"}'
    ]


def test_unknown_register_list_decodes_generically(tmp_path: Path) -> None:
    def register(code: str, tag: int, value: int, scaler: int, unit: int) -> dict[str, object]:
        scaler_unit = _data(TAG.STRUCTURE, [_data(TAG.INTEGER, scaler), _data(TAG.ENUM, unit)])
        return _data(TAG.STRUCTURE, [_obis(code), _data(tag, value), scaler_unit])

    body = _data(
        TAG.ARRAY,
        [
            register("1-0:14.7.0.255", TAG.LONG_UNSIGNED, 4998, -2, 44),  # frequency, named
            register("1-0:99.97.0.255", TAG.DOUBLE_LONG, -1234, -1, 30),  # unnamed, Wh
        ],
    )
    frame = _notification(body)
    code, out, err = run("json", capture(tmp_path, frame))
    assert code == 0, err
    obj = json.loads(out, parse_float=Decimal)
    assert obj["frequency"] == Decimal("49.98")
    assert obj["1-0:99.97.0.255"] == Decimal("-123.4")
    assert "list" not in obj
    code, out, _ = run("decode", frame.hex())
    assert code == 0
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
    assert rows["frequency"] == ["49.98", "Hz", "1-0:14.7.0.255"]
    assert rows["1-0:99.97.0.255"] == ["-123.4", "Wh", "1-0:99.97.0.255"]
    assert "(layout generic:registers)" in out


def _malformed() -> bytes:
    # a well-framed data-notification whose body says "array of 3" and ends after one element
    return build_frame(LLC + b"\x0f\x40\x00\x00\x00\x00\x01\x03\x02\x02" + bytes.fromhex("0906 0100010700ff"))


def test_malformed_apdu_is_counted_and_skipped(tmp_path: Path) -> None:
    code, out, err = run("json", capture(tmp_path, AIDON_L1 + _malformed() + AIDON_L1))
    assert code == 0, err
    assert out.splitlines() == [AIDON_L1_JSON, AIDON_L1_JSON]
    assert err.strip() == f"3 frames: 2 readings, 1 decode; {2 * 44 + len(_malformed())} bytes, 0 discarded"


def test_malformed_apdu_verbose(tmp_path: Path) -> None:
    code, _, err = run("json", "-v", capture(tmp_path, AIDON_L1 + _malformed() + AIDON_L1))
    assert code == 0
    assert sum(line.startswith("skipped: decode:") for line in err.splitlines()) == 1


def test_malformed_apdu_strict_exits_non_zero(tmp_path: Path) -> None:
    code, out, err = run("json", "--strict", capture(tmp_path, AIDON_L1 + _malformed() + AIDON_L1))
    assert code == 1
    assert out.splitlines() == [AIDON_L1_JSON]  # what came before the bad frame was written
    assert sum(line.startswith("Error: ") for line in err.splitlines()) == 1
    assert "Traceback" not in err


def test_malformed_apdu_strict_real_process(tmp_path: Path) -> None:
    path = capture(tmp_path, AIDON_L1 + _malformed() + AIDON_L1)
    proc = subprocess.run(
        [sys.executable, "-m", "amsread", "csv", "--strict", "-q", path],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [HEADER, AIDON_L1_ROW]
    assert proc.stderr.startswith("Error: ") and "Traceback" not in proc.stderr


def test_decode_strict_on_hex_argument() -> None:
    code, out, err = run("decode", "--json", "--strict", (AIDON_L1 + _malformed()).hex())
    assert code == 1
    assert out.splitlines() == [AIDON_L1_JSON]
    assert "Error: " in err and "Traceback" not in err
