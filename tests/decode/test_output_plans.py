"""CSV rows and JSON lines from their column plans (issue 15) against the readings themselves.

The writers print each reading straight into its row by a plan made once; these tests hold them
to what the plain road prints (``_csv_cell`` of ``Reading.get`` per column, ``Reading.as_dict``),
on every real capture and on values of every type, and keep the plans bounded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import pytest

from amsread import formats
from amsread.contract import COLUMNS, Reading
from amsread.formats import JSON_PLANS, CsvWriter, _csv_cell, _json_value, json_line
from helpers.decoding import decode, plain_vectors


def _readings() -> list[Reading]:
    out: list[Reading] = []
    for v in plain_vectors():
        out += decode(v["name"])[0]
    return out


def _odd_reading() -> Reading:
    """A reading with a value of every type a writer meets, text a spreadsheet would run included."""
    values: dict[str, Any] = {
        "meter_id": "=HYPERLINK(1)",
        "meter_type": "-ab\x1b[2J",
        "list_version": "+47",
        "meter_model": 'a,"b"',
        "1-0:96.1.7.255": "",
        "active_power_import": 1234,
        "voltage_l1": Decimal("230.10"),
        "current_l1": Decimal("-1.5"),
        "active_energy_import": Decimal("1E+2"),
        "1-0:99.99.0.255": (1, b"x"),
        "power_factor": 0.25,
        "flag": True,
        "nothing": None,
    }
    stamp = dt.datetime(2026, 11, 30, 10, 0, 0, 123456, tzinfo=dt.UTC)
    return Reading(stamp, stamp.replace(microsecond=0), "aidon", 2, values, "x")


def _text_reading() -> Reading:
    """Only the types the templates print, with text that must be quoted, guarded or escaped."""
    values: dict[str, Any] = {
        "meter_id": '=a,"b"',
        "meter_model": "{0}{1:f}",
        "1-0:96.1.7.255": "",
        "list_version": "plain",
        "voltage_l1": Decimal("5E+1"),
        "current_l1": Decimal("1E-7"),  # str() would print these three in scientific notation
        "current_l2": Decimal("-0E-9"),
        "current_l3": Decimal("0.000001"),
        "active_power_import": 7,
        "meter_type": None,
    }
    return Reading(None, dt.datetime(2026, 3, 29, 2, 0, tzinfo=dt.UTC), None, 3, values, "y")


def _csv_rows(readings: list[Reading], columns: tuple[str, ...]) -> list[list[str]]:
    out = io.StringIO()
    writer = CsvWriter(out, columns, header=False)
    for r in readings:
        writer.write(r)
    return list(csv.reader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize(
    "columns",
    [
        COLUMNS,
        ("meter_id", "1-0:99.99.0.255", "power_factor", "flag", "nothing", "list", "received_at"),
        ("meter_model", "1-0:96.1.7.255", "voltage_l1", "meter_time"),
        ("1-0:96.1.7.255",),
        ("nothing",),
    ],
    ids=["contract", "extras", "quoted-and-empty-text", "lone-empty-text", "lone-absent"],
)
def test_csv_rows_equal_the_plain_road(columns: tuple[str, ...]) -> None:
    readings = [*_readings(), _odd_reading(), _text_reading()]
    expected = [[_csv_cell(r.get(c)) for c in columns] for r in readings]
    assert _csv_rows(readings, columns) == expected


def test_csv_guards_text_but_not_numbers() -> None:
    (row,) = _csv_rows([_odd_reading()], ("meter_id", "meter_type", "list_version", "current_l1"))
    assert row == ["'=HYPERLINK(1)", "'-ab\\x1b[2J", "+47", "-1.5"]


def test_json_lines_equal_as_dict() -> None:
    for r in [*_readings(), _odd_reading(), _text_reading()]:
        line = json_line(r)
        expected = "{" + ", ".join(f"{json.dumps(k)}: {_json_value(v)}" for k, v in r.as_dict().items()) + "}"
        assert line == expected
        assert list(json.loads(line)) == list(r.as_dict())


def test_json_plans_stay_bounded() -> None:
    """Hostile frames with ever new codes must not grow the plans without end."""
    for k in range(2 * JSON_PLANS + 5):
        r = Reading(None, None, None, None, {f"1-0:{k}.7.0.255": k})
        assert json_line(r) == f'{{"1-0:{k}.7.0.255": {k}}}'
        assert len(formats._json_plans) <= JSON_PLANS
