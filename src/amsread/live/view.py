"""The live view of ``watch`` on a terminal: the only module that imports rich.

It renders a ``live.state.WatchState`` and the pipeline's counters; ``cli.watch`` runs the loop
that feeds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Final

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from amsread.contract import ENERGY, IDENTITY, PHASE_KEYS, PHASES, POWER
from amsread.errors import DecryptionError, MissingKeyError
from amsread.live.formats import age_text, number, sparkline
from amsread.live.state import WatchState
from amsread.wire.framer import Stats


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
        stats: Stats,
        description: str,
        *,
        demo: bool = False,
        replay: bool = False,
        width: int = 78,
        extra: tuple[str, Callable[[], list[str]]] | None = None,
    ) -> None:
        self.state = state
        #: A panel's title and its lines, asked for at each redraw (``watch --grid``).
        self.extra = extra
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

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self.resize(options.max_width)
        yield self.render()

    # -- pieces -------------------------------------------------------------------------------

    def _value(self, name: str, *, style: str = "bold") -> Text:
        item = self.state.latest.get(name)
        if item is None:
            return Text("—", style="dim")
        text = Text(number(item.value), style=style)
        if item.unit:
            text.append(f" {item.unit}", style="default")
        return text

    def _stale(self, name: str, fresh: float) -> Text:
        """A dim note for a value notably older than its panel's newest one."""
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

    def _power(self) -> Panel:
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

    def _phases(self) -> Panel:
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
        body: RenderableType = table
        if not shown:
            body = Text("Currents and voltages\ncome with list 2.", style="dim")
        return Panel(
            body,
            title=self._title("Phases", [k for k in PHASE_KEYS if k in s.latest], self._right_width),
            title_align="left",
            width=self._right_width,
            height=6,
        )

    def _trend(self) -> Panel:
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

    def _energy(self) -> Panel:
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
        body: RenderableType = grid
        if not any(n in s.latest for n in ENERGY):
            body = Text("The counters come once an hour,\njust after the full hour (list 3).", style="dim")
        return Panel(
            body, title=self._title("Energy counters", ENERGY), title_align="left", width=self.left, height=7
        )

    def _meter(self) -> Panel:
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

    def _other(self) -> Panel | None:
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

    def _header(self) -> Table:
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

    def _footer(self) -> Text:
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

    def _hint(self) -> Text | None:
        """While nothing decodes, say what that usually means."""
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

    def render(self) -> Group:
        parts: list[RenderableType] = [self._header()]
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
        if self.extra is not None and (lines := self.extra[1]()):
            parts.append(
                Panel(Text("\n".join(lines)), title=self.extra[0], title_align="left", width=self.width)
            )
        hint = self._hint()
        if hint is not None:
            parts.append(hint)
        parts.append(self._footer())
        return Group(*parts)


class LiveScreen:
    """The terminal the view is drawn on (rich's ``Live``): redrawn when a reading is shown, and on
    idle ticks at most every ``refresh`` seconds, so the ages keep counting while the meter is quiet.

    With ``redirect_stderr`` (stderr is the same terminal), lines written to stderr and those
    handed to ``say`` are printed above the view, so they neither tear it nor get drawn over.
    """

    def __init__(self, view: View, refresh: float, *, redirect_stderr: bool = False) -> None:
        self._live = Live(
            view, console=Console(), auto_refresh=False, transient=False, redirect_stderr=redirect_stderr
        )
        self._refresh = refresh
        self._last = 0.0

    def __enter__(self) -> LiveScreen:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.draw()
        self._live.__exit__(None, None, None)

    def say(self, message: str, style: str = "") -> None:
        """A line above the view."""
        self._live.console.print(Text(message, style=style))

    def tick(self) -> None:
        """An idle tick: redraw if the last drawing is ``refresh`` seconds old."""
        if time.monotonic() - self._last >= self._refresh:
            self.draw()

    def shown(self) -> None:
        """A reading arrived: redraw at once (but not more than 20 times a second)."""
        if time.monotonic() - self._last >= 0.05:
            self.draw()

    def draw(self) -> None:
        self._live.refresh()
        self._last = time.monotonic()
