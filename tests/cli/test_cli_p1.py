"""P1 telegrams through the commands, no option needed: ``json``/``csv`` read them, ``hex`` shows
them (``--annotate`` line by line with each line's meaning, ``--raw`` the bytes between), and a
capture that changes from HDLC to P1 reads through."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import run
from helpers.telegrams import wire
from helpers.vectors import raw

AIDON = "se_aidon_6534_1"
GARBAGE = b"\x00junk\r\n"


def capture(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "capture.bin"
    path.write_bytes(data)
    return str(path)


def test_json_reads_p1_with_no_option(tmp_path: Path) -> None:
    code, out, err = run("json", capture(tmp_path, wire(AIDON) + wire("be_fluvius_sagemcom")))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["manufacturer"] for r in rows] == ["aidon", "flu"]
    assert rows[0]["active_power_import"] == 870
    assert rows[1]["active_power_import_max_month"] == 6235
    assert err.startswith("2 P1 telegrams: 2 readings")


def test_csv_counts_a_bad_crc_as_a_skip_and_carries_on(tmp_path: Path) -> None:
    data = wire("nl_dsmr42_kaifa_redacted") + wire(AIDON)
    code, out, err = run("csv", capture(tmp_path, data))
    assert code == 0, err
    assert len(out.splitlines()) == 2  # the header and the one good telegram
    assert "1 bad P1 CRC" in err


def test_a_capture_that_changes_from_hdlc_to_p1(tmp_path: Path) -> None:
    data = raw("doc_aidon_6534_list1") + GARBAGE + wire(AIDON)
    code, out, err = run("json", capture(tmp_path, data))
    assert code == 0, err
    assert len(out.splitlines()) == 2
    assert err.startswith("1 frame, 1 P1 telegram: 2 readings")


def test_hex_annotate_shows_each_line_and_its_meaning(tmp_path: Path) -> None:
    code, out, _ = run("hex", "--annotate", capture(tmp_path, wire("be_fluvius_sagemcom")))
    assert code == 0
    assert "P1 ok (CRC 7559 ok)" in out
    lines = out.splitlines()
    assert any("1-0:1.7.0(00.000*kW)" in line and "active_power_import 0 W" in line for line in lines)
    assert any("0-0:1.0.0(230629102248S)" in line and "(S: summer time)" in line for line in lines)
    assert any("0-0:96.14.0(0001)" in line and "tariff in force" in line for line in lines)
    assert any("1-0:1.6.0" in line and "active_power_import_max_month 6235 W" in line for line in lines)


def test_hex_annotate_a_telegram_without_crc(tmp_path: Path) -> None:
    code, out, _ = run("hex", "--annotate", capture(tmp_path, wire("nl_dsmr3_kamstrup")))
    assert code == 0
    assert "P1 ok (no CRC)" in out
    assert "continuation of the line before" in out


def test_hex_raw_shows_the_bytes_outside_telegrams(tmp_path: Path) -> None:
    code, out, err = run("hex", "--raw", capture(tmp_path, GARBAGE + wire(AIDON) + GARBAGE))
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[2] for line in lines] == ["outside", "P1", "outside"]
    assert lines[0].endswith(GARBAGE.hex()) and lines[2].endswith(GARBAGE.hex())
    assert err.startswith("1 P1 telegram;")


def test_hex_annotate_a_telegram_without_the_blank_line(tmp_path: Path) -> None:
    """DSMR 3 Kamstrups (and hand-made telegrams) may leave the blank line out: shown, not a crash."""
    data = b"/KMP5 KA6U001\r\n0-0:96.1.1(204B)\r\n1-0:1.7.0(0000.54*kW)\r\n!\r\n"
    code, out, err = run("hex", "--annotate", capture(tmp_path, data))
    assert code == 0, err
    assert "active_power_import 540 W" in out
    assert "blank line" not in out


def test_hex_annotate_a_telegram_the_declaration_does_not_read(tmp_path: Path) -> None:
    """A bare LF inside passes the splitter (no CRC to say otherwise) but not the declaration:
    ``--annotate`` shows the lines as they are instead of failing."""
    data = b"/ABC5 x\r\n\r\n1-0:1.7.0(0001.000*kW)\n1-0:2.7.0(0000.000*kW)\r\n!\r\n"
    code, out, err = run("hex", "--annotate", capture(tmp_path, data))
    assert code == 0, err
    assert "P1 ok (no CRC)" in out and "identification: maker ABC (abc)" in out


def test_csv_columns_take_the_belgian_peak_names(tmp_path: Path) -> None:
    """The names only P1 telegrams carry (decode/p1.py) are columns ``--columns`` accepts: the
    Fluvius meter's average demand (1.4.0), month peak and its time (1.6.0) and peak history."""
    columns = (
        "meter_id,active_power_import_average,active_power_import_max_month,"
        "active_power_import_max_month_at,active_power_import_max_history,active_energy_import_t1"
    )
    code, out, err = run("csv", "--columns", columns, capture(tmp_path, wire("be_fluvius_sagemcom")))
    assert code == 0, err
    header, row = out.splitlines()
    assert header == columns
    assert row == (
        "1SAG3105200877,0,6235,2023-06-22T20:00:00+02:00,"
        "2023-05-01: 6985 W at 2023-04-23T20:30:00+02:00; 2023-06-01: 6748 W at 2023-05-24T19:30:00+02:00,"
        "661.701"
    )


def test_csv_columns_still_refuse_a_misspelt_name(tmp_path: Path) -> None:
    code, _, err = run("csv", "--columns", "active_power_import_max_mnth", capture(tmp_path, wire(AIDON)))
    assert code == 2
    assert "unknown column active_power_import_max_mnth" in err and "active_power_import_max_month" in err
