"""``amsread watch``: what is my house doing now? A live view on a terminal, a line per reading otherwise.

The meter sends different lists at different rates (Aidon: power alone every 2.5 s, the phases
every 10 s, the counters once an hour), so the view keeps the latest value of every quantity
across lists. That is display state only; every value is shown with how old it is, because a
counter from 50 minutes ago next to a power from 1 second ago must not look equally fresh. The
readings themselves stay one per frame (output-contract.md): ``csv`` and ``json`` never merge.

``--demo`` runs the simulated meter in-process, so the command can be tried without a meter.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import click

from amsread.cli import CONTEXT_SETTINGS, decode_options, key_options, note, notes_to, source_options
from amsread.commands._run import emit, running, take
from amsread.errors import DecryptionError, MissingKeyError

if TYPE_CHECKING:
    from amsread.source import SourceRequest

#: How much history the power trend shows, in seconds of host time.
TREND_WINDOW: Final = 300.0
#: The live view redraws at most this often (and at every reading).
REFRESH: Final = 0.25
BLOCKS: Final = "▁▂▃▄▅▆▇█"

#: Short labels for the one-line form.
SHORT: Final = {
    "active_power_import": "P+",
    "active_power_export": "P-",
    "reactive_power_import": "Q+",
    "reactive_power_export": "Q-",
    "active_energy_import": "A+",
    "active_energy_export": "A-",
    "reactive_energy_import": "R+",
    "reactive_energy_export": "R-",
}
PHASES: Final = ("l1", "l2", "l3")
POWER: Final = (
    "active_power_import",
    "active_power_export",
    "reactive_power_import",
    "reactive_power_export",
)
ENERGY: Final = (
    "active_energy_import",
    "active_energy_export",
    "reactive_energy_import",
    "reactive_energy_export",
)
IDENTITY: Final = ("list_version", "meter_id", "meter_type")
PHASE_KEYS: Final = tuple(
    f"{q}_{p}"
    for p in PHASES
    for q in (
        "current",
        "voltage",
        "active_power_import",
        "active_power_export",
        "reactive_power_import",
        "reactive_power_export",
    )
)


# --------------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------------


def number(value: Any) -> str:
    """A value for people: exact digits, thousands grouped with a space (``23 456.78``); text
    with its control characters made visible, so a meter's string cannot drive the terminal."""
    from amsread.output import visible

    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
        return visible(str(value))
    if isinstance(value, Decimal):
        return f"{value:,f}".replace(",", " ")
    return f"{value:,}".replace(",", " ")


def age_text(seconds: float) -> str:
    """``0.4 s``, ``12 s``, ``3 min``, ``1 h 5 min``: precise when recent, coarse when old."""
    if seconds < 10:
        return f"{max(seconds, 0.0):.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:.0f} min"


def _stamp(reading: Any) -> str:
    when = reading.received_at or reading.meter_time
    if when is None:
        return "-"
    if reading.received_at is not None:
        when = when.astimezone()
    return when.strftime("%Y-%m-%d %H:%M:%S")


def reading_line(reading: Any) -> str:
    """One reading on one readable line, for ``watch`` when stdout is not a terminal.

    Numbers are printed as in CSV (exact, ungrouped), so the line stays easy to grep and cut.
    """
    from amsread.output import format_value

    values = dict(reading.values)
    units = reading.units
    parts = [_stamp(reading), reading.manufacturer or "?", f"list {reading.list}" if reading.list else "-"]

    def take_value(name: str) -> str | None:
        if name not in values:
            return None
        unit = units.get(name, "")
        return format_value(values.pop(name)) + (f" {unit}" if unit else "")

    for name in POWER:
        if (text := take_value(name)) is not None:
            parts.append(f"{SHORT[name]} {text}")
    for quantity, label, unit in (("current", "I", "A"), ("voltage", "U", "V")):
        names = [f"{quantity}_{p}" for p in PHASES]
        if any(n in values for n in names):
            shown = [format_value(values.pop(n)) if n in values else "-" for n in names]
            while shown and shown[-1] == "-":
                shown.pop()
            parts.append(f"{label} {'/'.join(shown)} {unit}")
    for name in ENERGY:
        if (text := take_value(name)) is not None:
            parts.append(f"{SHORT[name]} {text}")
    if reading.meter_time is not None and reading.received_at is not None:
        parts.append(f"clock {reading.meter_time.strftime('%Y-%m-%d %H:%M:%S')}")
    for name in IDENTITY:
        if name in values:
            parts.append(format_value(values.pop(name)))
    for name in list(values):
        parts.append(f"{name} {take_value(name)}")
    return "  ".join(parts)


def sparkline(
    samples: Iterable[tuple[float, float]], now: float, window: float, width: int, rows: int = 1
) -> list[str]:
    """Samples ``(time, value)`` of the last ``window`` seconds as ``rows`` lines of block characters.

    Each column averages the samples in its slice of time, scaled between the lowest and highest
    column; columns without samples stay blank, so the trend grows from the right as history
    accumulates. Several rows stack the blocks for a finer vertical resolution.
    """
    sums = [0.0] * width
    counts = [0] * width
    start = now - window
    for t, v in samples:
        if t < start:
            continue
        i = min(width - 1, int((t - start) / window * width))
        sums[i] += v
        counts[i] += 1
    means = [s / c if c else None for s, c in zip(sums, counts, strict=True)]
    present = [m for m in means if m is not None]
    if not present:
        return [" " * width for _ in range(rows)]
    lo, hi = min(present), max(present)
    span = hi - lo
    steps = len(BLOCKS) * rows - 1
    lines = [[" "] * width for _ in range(rows)]
    for i, m in enumerate(means):
        if m is None:
            continue
        level = 0 if span <= 0 else round((m - lo) / span * steps)
        for r in range(rows):  # r = 0 is the bottom row
            within = level - r * len(BLOCKS)
            if within >= len(BLOCKS):
                lines[rows - 1 - r][i] = BLOCKS[-1]
            elif within >= 0:
                lines[rows - 1 - r][i] = BLOCKS[within]
    return ["".join(line) for line in lines]


# --------------------------------------------------------------------------------------------
# display state
# --------------------------------------------------------------------------------------------


def net_power(values: dict[str, Any]) -> float | None:
    """Import minus export in W (negative while the house exports), for the trend; None when the
    reading has no import power, or a value that is no finite number (the trend plots floats, and
    one NaN would break its scale and its title)."""
    power = values.get("active_power_import")
    if power is None:
        return None
    export = values.get("active_power_export") or 0
    try:
        net = float(Decimal(power) - Decimal(export))
    except (ArithmeticError, TypeError, ValueError):
        return None
    return net if math.isfinite(net) else None


@dataclass(slots=True)
class Latest:
    """The latest value of one quantity, with where and when it came."""

    value: Any
    unit: str
    at: float
    list: int | None


class WatchState:
    """The latest value per quantity across lists, and a power trend, for the live view only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = TREND_WINDOW) -> None:
        self.clock = clock
        self.window = window
        self.latest: dict[str, Latest] = {}
        self.trend: deque[tuple[float, float]] = deque(maxlen=8192)
        self.clock_reading: tuple[dt.datetime, float] | None = None
        self.manufacturer: str | None = None
        self.lists: Counter[int] = Counter()
        self.readings = 0
        self.started = clock()

    def update(self, reading: Any) -> None:
        now = self.clock()
        units = reading.units
        for name, value in reading.values.items():
            self.latest[name] = Latest(value, units.get(name, ""), now, reading.list)
        if reading.meter_time is not None:
            self.clock_reading = (reading.meter_time, now)
        if reading.manufacturer:
            self.manufacturer = reading.manufacturer
        net = net_power(reading.values)
        if net is not None:
            self.trend.append((now, net))
            while self.trend and self.trend[0][0] < now - self.window:
                self.trend.popleft()
        self.lists[reading.list or 0] += 1
        self.readings += 1

    def age(self, names: Iterable[str]) -> tuple[float, set[int]] | None:
        """Seconds since the newest of ``names`` came, and the lists they came in."""
        found = [self.latest[n] for n in names if n in self.latest]
        if not found:
            return None
        newest = max(x.at for x in found)
        return self.clock() - newest, {x.list for x in found if x.list}


class ReplayClock:
    """The meter's own clock, for a capture replayed in a blink: ages and the trend's window then
    span the meter's minutes, not the milliseconds the replay took on this host.

    Time is the newest ``received_at`` (a recording stamps it) or ``meter_time`` seen so far; a
    reading without either (Aidon's list 1 sends no clock) counts as the time of the last one.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, reading: Any) -> None:
        when = reading.received_at or reading.meter_time
        if when is not None:
            self.now = max(self.now, when.timestamp())


# --------------------------------------------------------------------------------------------
# the live view
# --------------------------------------------------------------------------------------------


class View:
    """Renders a ``WatchState`` and the pipeline's counters with rich; one call per refresh.

    Fits an 80 × 24 terminal: power and phases side by side, the power trend across, the energy
    counters and the meter's identity side by side, one status line. Wider terminals get a longer
    trend; narrower ones get the panels stacked.
    """

    RIGHT: Final = 33
    """Width of the phases and meter panels."""
    MIN_SIDE_BY_SIDE: Final = 70

    def __init__(
        self,
        state: WatchState,
        stats: Any,
        description: str,
        *,
        demo: bool = False,
        replay: bool = False,
        width: int = 78,
    ) -> None:
        self.state = state
        self.stats = stats
        self.description = description
        self.demo = demo
        #: A capture, not a live port: ages are by the meter's clock and the host's are meaningless.
        self.replay = replay
        self.resize(width)

    def resize(self, width: int) -> None:
        """Lay out for a terminal ``width`` columns wide (capped at 120: a trend, not a chart)."""
        self.width = max(40, min(width - 2, 120))
        self.stacked = self.width < self.MIN_SIDE_BY_SIDE
        self.left = self.width if self.stacked else self.width - self.RIGHT

    @property
    def _right_width(self) -> int:
        return self.width if self.stacked else self.RIGHT

    def __rich_console__(self, console: Any, options: Any) -> Any:
        self.resize(options.max_width)
        yield self.render()

    # -- pieces -------------------------------------------------------------------------------

    def _value(self, name: str, *, style: str = "bold") -> Any:
        from rich.text import Text

        item = self.state.latest.get(name)
        if item is None:
            return Text("—", style="dim")
        text = Text(number(item.value), style=style)
        if item.unit:
            text.append(f" {item.unit}", style="default")
        return text

    def _stale(self, name: str, fresh: float) -> Any:
        """A dim note for a value notably older than its panel's newest one."""
        from rich.text import Text

        item = self.state.latest.get(name)
        if item is None:
            return Text("")
        age = self.state.clock() - item.at
        if age - fresh < 1.5:
            return Text("")
        where = f"list {item.list} · " if item.list else ""
        return Text(f"{where}{age_text(age)} ago", style="dim")

    def _title(self, name: str, names: Iterable[str], width: int | None = None) -> str:
        """``Phases · list 2 · 4.4 s ago``; without the list where the panel is too narrow."""
        found = self.state.age(names)
        if found is None:
            return f"[bold]{name}[/]"
        age, lists = found
        where = ("list " + "+".join(str(n) for n in sorted(lists)) + " · ") if lists else ""
        when = f"{age_text(age)} ago"
        room = (width or self.width) - 6  # corners, dashes and the spaces around the title
        if len(f"{name} · {where}{when}") > room:
            where = ""
        return f"[bold]{name}[/] [dim]· {where}{when}[/]"

    def _power(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        s = self.state
        found = s.age(("active_power_import",))
        fresh = found[0] if found else 0.0
        grid = Table.grid(padding=(0, 1))
        grid.add_column(min_width=10)
        grid.add_column(justify="right", min_width=10)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        rows = (
            ("Import", "active_power_import", "bold green"),
            ("Export", "active_power_export", "bold cyan"),
            ("Reactive +", "reactive_power_import", "bold"),
            ("Reactive −", "reactive_power_export", "bold"),
        )
        for label, name, style in rows:
            grid.add_row(Text(label, style=style), self._value(name, style=style), self._stale(name, fresh))
        return Panel(
            grid,
            title=self._title("Power", ("active_power_import",)),
            title_align="left",
            width=self.left,
            height=6,
        )

    def _phases(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        s = self.state
        per_phase_power = any(f"active_power_import_{p}" in s.latest for p in PHASES)
        table = Table.grid(padding=(0, 2))
        table.add_column(min_width=2)
        table.add_column(justify="right", min_width=8)
        table.add_column(justify="right", min_width=9)
        headers = [Text(""), Text("Current", style="dim"), Text("Voltage", style="dim")]
        if per_phase_power:
            table.add_column(justify="right")
            headers.append(Text("Power", style="dim"))
        table.add_row(*headers)
        shown = 0
        for p in PHASES:
            names = (f"current_{p}", f"voltage_{p}")
            if not any(n in s.latest for n in names):
                continue
            row = [Text(p.upper(), style="bold"), self._value(names[0]), self._value(names[1])]
            if per_phase_power:
                row.append(self._value(f"active_power_import_{p}"))
            table.add_row(*row)
            shown += 1
        body: Any = table
        if not shown:
            body = Text("Currents and voltages\ncome with list 2.", style="dim")
        return Panel(
            body,
            title=self._title("Phases", [k for k in PHASE_KEYS if k in s.latest], self._right_width),
            title_align="left",
            width=self._right_width,
            height=6,
        )

    def _trend(self) -> Any:
        from rich.panel import Panel
        from rich.text import Text

        s = self.state
        lines = sparkline(s.trend, s.clock(), s.window, self.width - 4, rows=2)
        values = [v for _, v in s.trend]
        title = f"[bold]Active power[/] [dim]· last {s.window / 60:.0f} min"
        if values:
            title += f" · {number(round(min(values)))} – {number(round(max(values)))} W"
        title += "[/]"
        body = Text("\n".join(lines), style="green")
        return Panel(
            body,
            title=title,
            title_align="left",
            subtitle=f"[dim]← {s.window / 60:.0f} min ago · now[/]",
            subtitle_align="right",
            width=self.width,
            height=4,
        )

    def _energy(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        s = self.state
        grid = Table.grid(padding=(0, 2))
        grid.add_column(min_width=10)
        grid.add_column(justify="right", min_width=18)
        rows = (
            ("Import", "active_energy_import", "bold green"),
            ("Export", "active_energy_export", "bold cyan"),
            ("Reactive +", "reactive_energy_import", "bold"),
            ("Reactive −", "reactive_energy_export", "bold"),
        )
        for label, name, style in rows:
            grid.add_row(Text(label, style=style), self._value(name, style=style))
        body: Any = grid
        if not any(n in s.latest for n in ENERGY):
            body = Text("The counters come once an hour,\njust after the full hour (list 3).", style="dim")
        return Panel(
            body, title=self._title("Energy counters", ENERGY), title_align="left", width=self.left, height=7
        )

    def _meter(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        s = self.state
        grid = Table.grid()
        grid.add_column()

        def text_of(name: str) -> str | None:
            item = s.latest.get(name)
            return number(item.value) if item is not None else None

        model = " ".join(x for x in ((s.manufacturer or "").capitalize(), text_of("meter_type")) if x)
        grid.add_row(Text(model or "—", style="bold"))
        grid.add_row(
            Text(text_of("meter_id") or "id: waiting for list 2", style="" if text_of("meter_id") else "dim")
        )
        grid.add_row(Text(text_of("list_version") or "", style="dim"))
        if s.clock_reading is not None:
            when, at = s.clock_reading
            grid.add_row(Text(when.strftime("clock %Y-%m-%d %H:%M:%S"), style="bold"))
            grid.add_row(Text(f"      {age_text(s.clock() - at)} ago", style="dim"))
        else:
            grid.add_row(Text("clock: not sent yet", style="dim"))
        return Panel(
            grid,
            title=self._title("Meter", IDENTITY, self._right_width),
            title_align="left",
            width=self._right_width,
            height=7,
        )

    def _other(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        known = set(POWER) | set(ENERGY) | set(IDENTITY) | set(PHASE_KEYS)
        names = [n for n in self.state.latest if n not in known]
        if not names:
            return None
        grid = Table.grid(padding=(0, 2))
        grid.add_column()
        grid.add_column(justify="right")
        grid.add_column()
        for name in names:
            grid.add_row(Text(name), self._value(name), self._stale(name, 0.0))
        return Panel(grid, title=self._title("Other", names), title_align="left", width=self.width)

    def _header(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 1))
        grid.width = self.width
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(
            Text(" amsread watch ", style="bold reverse"),
            Text(self.description, style="bold magenta" if self.demo else "bold"),
            Text("Ctrl-C to stop", style="dim"),
        )
        return grid

    def _footer(self) -> Any:
        from rich.text import Text

        s, st = self.state, self.stats
        good = st.splitter.frames_good
        bad = sum(st.errors.values())
        text = Text(" ")
        if self.replay:
            text.append("replay", style="bold")
            text.append(" · ages by the meter's clock · ", style="dim")
        elif st.last_frame_at is not None:
            text.append("last frame ", style="dim")
            text.append(age_text(time.time() - st.last_frame_at), style="bold")
            text.append(" ago · ", style="dim")
        elif st.splitter.bytes_received:
            text.append(f"{st.splitter.bytes_received} bytes, no frame yet · ", style="yellow")
        else:
            text.append("waiting for the first bytes · ", style="yellow")
        text.append(f"{good}", style="bold green")
        text.append(" good · ", style="dim")
        text.append(f"{bad}", style="bold red" if bad else "bold")
        text.append(" bad frames", style="dim")
        if not self.replay:
            text.append(f" · up {age_text(s.clock() - s.started)}", style="dim")
        return text

    def _hint(self) -> Any:
        """While nothing decodes, say what that usually means."""
        from rich.text import Text

        s, st = self.state, self.stats
        if not s.readings and st.errors.get(DecryptionError.reason):
            return Text(f" {MissingKeyError.advice.capitalize()}.", style="yellow")
        waited = s.clock() - s.started
        if s.readings or waited < 12:
            return None
        if not st.splitter.bytes_received:
            return Text(
                " No bytes yet. Is the HAN port open (your grid company opens it on request),\n"
                " and the adapter on pins 1 and 2? `amsread probe PORT` can tell.",
                style="yellow",
            )
        if not st.splitter.frames_good:
            return Text(
                " Bytes arrive but no valid frame: the wrong speed or parity?\n"
                " `amsread probe PORT` tries them in turn.",
                style="yellow",
            )
        return None

    def render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        parts: list[Any] = [self._header()]
        if self.stacked:
            parts += [self._power(), self._phases(), self._trend(), self._energy(), self._meter()]
        else:
            top = Table.grid()
            top.add_row(self._power(), self._phases())
            bottom = Table.grid()
            bottom.add_row(self._energy(), self._meter())
            parts += [top, self._trend(), bottom]
        other = self._other()
        if other is not None:
            parts.append(other)
        hint = self._hint()
        if hint is not None:
            parts.append(hint)
        parts.append(self._footer())
        return Group(*parts)


# --------------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------------


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def ticking(chunks: Iterable[bytes], on_tick: Callable[[], None]) -> Iterator[bytes]:
    """Pass chunks through, calling ``on_tick`` before each: live sources tick on silence too."""
    for chunk in chunks:
        on_tick()
        yield chunk


def demo_start() -> tuple[dt.datetime, str]:
    """Where the demo meter's clock starts, and the line that says why (said once)."""
    from amsread.simulator import next_hour_start

    start = next_hour_start(2.0)
    why = (
        f"demo: the meter's clock starts at {start:%H:%M:%S}, just before a full hour, "
        "so the hourly list 3 (energy counters) comes within seconds"
    )
    return start, why


def _demo_source(
    meter: str, phases: int, speed: float, seed: int | None, record: str | None, start: dt.datetime
) -> Any:
    from amsread.simulator import SimulatedMeter, live_chunks
    from amsread.source import Source, open_record

    # Start the meter's clock just before a full hour: all three lists arrive in the first seconds.
    sim = SimulatedMeter(meter, phases, seed=seed, start=start)
    desc = f"demo: simulated {meter.capitalize()}, {phases}-phase"
    if speed != 1:
        desc += f", {speed:g}× speed"
    src = Source("demo", True, lambda: live_chunks(sim.pushes(), speed), description=desc)
    if record:
        src.record = open_record(record)
    return src


@click.command("watch", context_settings=CONTEXT_SETTINGS)
@source_options(required=False)
@decode_options
@key_options
@click.option("--demo", is_flag=True, help="Watch a simulated meter (no meter needed).")
@click.option("--phases", type=click.Choice(["1", "3"]), default="3", show_default=True, help="With --demo.")
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="With --demo: run the meter's clock this many times faster.",
)
@click.option("--seed", type=int, help="With --demo: the same seed gives the same values.")
@click.option("--plain", is_flag=True, help="One line per reading even on a terminal.")
def command(
    source: SourceRequest,
    options: Any,
    meter: str | None,
    demo: bool,
    phases: str,
    speed: float,
    seed: int | None,
    plain: bool,
) -> None:
    """Watch the meter live: power, phases, counters, updating in place.

    On a terminal the view shows every quantity with its unit and how old it is (list 1 brings
    only the power, list 2 the phases, list 3 the hourly counters), a trend of the power over
    the last minutes, and counters of good and bad frames. Piped, it prints one line per
    reading instead. A capture file is replayed by the meter's own clock (ages and trend are the
    meter's; the footer says "replay"). --demo runs a simulated meter (Aidon unless --meter says
    otherwise) whose clock starts just before a full hour, so the hourly list comes at once.

    Examples:

    \b
        amsread watch --demo
        amsread watch --demo --meter kamstrup --phases 1 --speed 10
        amsread watch /dev/ttyUSB0
        amsread watch socket://192.168.1.50:2000 --plain
    """
    from amsread.readings import ReadingDecoder

    if demo and source.spec:
        raise click.UsageError("give either a SOURCE or --demo, not both")
    if not demo and not source.spec:
        raise click.UsageError(
            "give a SOURCE (a serial port, socket://host:port, a capture file or -), or --demo"
        )
    if not demo:
        given = [
            n
            for n, v in (("--speed", speed != 1.0), ("--seed", seed is not None), ("--phases", phases != "3"))
            if v
        ]
        if given:
            raise click.UsageError(f"{', '.join(given)} only apply to --demo")
    if demo:
        sim_meter = meter or "aidon"
        if sim_meter not in ("aidon", "kaifa", "kamstrup"):
            raise click.BadParameter("the demo meter is aidon, kaifa or kamstrup", param_hint="--meter")
        start, why = demo_start()
        ctx = running(source, opened=_demo_source(sim_meter, int(phases), speed, seed, source.record, start))
    else:
        ctx = running(source)
        why = None
    count = source.count
    live_view = not plain and sys.stdout.isatty()
    with ctx as (src, pipeline):
        decoder = ReadingDecoder(options)
        if not live_view:
            if why and not source.quiet:
                note(why)
            for reading in take(pipeline.readings(src, live=src.live, decoder=decoder), count):
                emit(reading_line(reading))
            return
        _live(src, pipeline, decoder, count, demo, why)


def _live(
    src: Any, pipeline: Any, decoder: Any, count: int | None, demo: bool, why: str | None = None
) -> None:
    """The rich live view: redrawn on every reading and at least every ``REFRESH`` seconds.

    A capture (``src.live`` false) is replayed by the meter's clock (``ReplayClock``). While the
    view runs, diagnostics meant for a terminal's stderr are printed above it by rich, so they
    neither tear the view nor get drawn over; a stderr sent elsewhere keeps them.
    """
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    replay = not src.live
    replay_clock = ReplayClock() if replay else None
    state = WatchState(clock=replay_clock) if replay_clock is not None else WatchState()
    description = src.description or src.name
    view = View(state, pipeline.stats, description, demo=demo, replay=replay)
    console = Console()
    last = 0.0
    on_terminal = _stderr_is_terminal()
    with (
        Live(view, console=console, auto_refresh=False, transient=False, redirect_stderr=on_terminal) as live,
        notes_to(lambda message: live.console.print(Text(message)))
        if on_terminal
        else contextlib.nullcontext(),
    ):
        if why:
            live.console.print(Text(why, style="dim"))

        def tick() -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= REFRESH:
                live.refresh()
                last = now

        live.refresh()
        readings = pipeline.readings(ticking(src, tick), live=src.live, decoder=decoder)
        for reading in take(readings, count):
            if replay_clock is not None:
                replay_clock.advance(reading)
            state.update(reading)
            now = time.monotonic()
            if now - last >= 0.05:
                live.refresh()
                last = now
        live.refresh()
