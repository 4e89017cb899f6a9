"""One home per meter maker: the registry joins the makers' own facts, and loads without construct."""

from __future__ import annotations

import subprocess
import sys

from amsread.decode.layout import Shape, Style
from amsread.meters import (
    BY_MAKER,
    IMPLICIT_SCALERS,
    LAYOUTS,
    LIST_VERSIONS,
    MODELS,
    PRESETS,
    SYSTEM_TITLE_MAKERS,
    aidon,
    kaifa,
    kamstrup,
    landisgyr,
)


def test_each_maker_module_holds_its_facts() -> None:
    assert LIST_VERSIONS == {
        "AIDON_V0001": "aidon",
        "KFM_001": "kaifa",
        "Kamstrup_V0001": "kamstrup",
        "EMBRIQ_V1_1": "landisgyr",
    }
    assert IMPLICIT_SCALERS[("kamstrup", "SE")]["energy"] == 0 and ("kaifa", "*") in IMPLICIT_SCALERS
    assert SYSTEM_TITLE_MAKERS == {
        b"ADN": "aidon",
        b"KFM": "kaifa",
        b"KAM": "kamstrup",
        b"LGZ": "landisgyr",
        b"ISK": "iskra",
        b"SAG": "sagemcom",
        b"SMS": "siemens",
    }
    assert {name: str(s) for name, s in PRESETS.items()} == {
        "aidon": "2400 8E1",
        "kaifa": "2400 8E1",
        "kamstrup": "2400 8N1",
        "landisgyr": "2400 8E1",
        "p1": "115200 8N1",
    }
    assert MODELS[("kaifa", 1)] is kaifa.MODEL_1P and MODELS[("aidon", 3)] is aidon.MODEL_3P
    assert BY_MAKER["landisgyr"].positional == (
        landisgyr.LANDISGYR_E450_AT_14,
        landisgyr.LANDISGYR_E450_AT_11,
    )


def test_every_layout_has_one_maker_and_speaks_in_enums() -> None:
    homes = aidon.LAYOUTS + kaifa.LAYOUTS + kamstrup.LAYOUTS
    assert homes == LAYOUTS and len({layout.name for layout in homes}) == len(homes)
    for layout in (*LAYOUTS, *(pl.layout for pl in landisgyr.MAKER.positional)):
        assert isinstance(layout.style, Style), layout.name
        assert all(isinstance(f.shape, Shape) for f in layout.fields), layout.name
    # a model's layouts are its maker's own
    for (maker, _), model in MODELS.items():
        names = {layout.name for layout in BY_MAKER[maker].layouts}
        assert set(model.layouts.values()) <= names


def test_the_meter_tables_load_without_construct() -> None:
    """``--help`` lists the presets: the tables must not pull in construct (about 50 ms)."""
    code = "import sys, amsread.meters; print('construct' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
