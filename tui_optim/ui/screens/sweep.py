"""The sweep screen: a learning-rate sweep filling in live.

The sweep runs in worker processes (:class:`~tui_optim.race.sweep.SweepProcesses`), or on a
Dask cluster (:class:`~tui_optim.race.sweep.ClusterSweep`); the screen polls them a few
times a second, folds finished blocks into a :class:`~tui_optim.results.sweep.SweepRecord`
and redraws the sensitivity chart, the optimizer x lr heatmap, the progress count and the
tuned learning rates. ``r`` races every optimizer at its tuned learning rate over the
sweep's seeds once the sweep is complete.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.markup import escape
from textual.widgets import Footer, Static

from tui_optim.ui.host import HostedScreen
from tui_optim.ui.sweep_view import heatmap, sensitivity_chart, tuned_lines

if TYPE_CHECKING:
    from tui_optim.results.sweep import SweepRecord
    from tui_optim.scenario import Scenario

#: Looks at the workers' pipe per second.
POLL_HZ = 5.0


class SweepScreen(HostedScreen[None]):
    """One sweep: chart, heatmap, progress; never a card per run."""

    DEFAULT_CSS = """
    SweepScreen { overflow: hidden hidden; }
    SweepScreen Static { width: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "race_tuned", "Race tuned", tooltip="race every optimizer at its tuned lr"),
    ]

    def __init__(
        self, scenario: Scenario, processes: int | None = None, cluster: Any = None
    ) -> None:
        """``cluster``: a ClusterRequest to run the blocks on Dask (None: local processes)."""
        super().__init__()
        from tui_optim.race.sweep import plan_blocks
        from tui_optim.results.sweep import SweepRecord

        assert scenario.sweep is not None
        self.scenario = scenario
        self.blocks = plan_blocks(scenario.sweep)
        self.record: SweepRecord = SweepRecord(scenario)
        self.processes = processes or max(1, min(len(self.blocks), os.cpu_count() or 1))
        self.cluster = cluster
        self.pool: Any = None
        self.failure: str | None = None
        self.drawn = -1

    def compose(self) -> ComposeResult:
        yield Static(id="sweep-title")
        yield Static(id="sweep-chart")
        yield Static(id="sweep-heatmap")
        yield Static(id="sweep-tuned")
        yield Footer()

    def on_mount(self) -> None:
        from tui_optim.race.sweep import ClusterSweep, SweepProcesses

        if self.cluster is not None:
            self.pool = ClusterSweep(self.scenario, self.blocks, self.cluster)
        else:
            self.pool = SweepProcesses(self.scenario, self.blocks, self.processes)
        self.pool.start()
        self.set_interval(1.0 / POLL_HZ, self.poll)
        self.draw()

    def on_unmount(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def on_resize(self) -> None:
        self.draw()

    @property
    def finished(self) -> bool:
        return self.record.complete or self.failure is not None

    def poll(self) -> None:
        from tui_optim.race.sweep import BlockResult, WorkerFailed, WorkerReady

        if self.pool is None:
            return
        for message in self.pool.poll(0):
            if isinstance(message, WorkerReady):
                self.record.fingerprint = message.fingerprint
            elif isinstance(message, BlockResult):
                self.record.add(message)
            elif isinstance(message, WorkerFailed):
                self.failure = message.message
        if self.finished:
            self.stop()
        if self.record.done != self.drawn or self.finished:
            self.draw()

    def draw(self) -> None:
        if not self.is_mounted:
            return
        self.drawn = self.record.done
        spec = self.record.spec
        width, height = self.size.width, self.size.height
        record = self.record
        state = "done" if record.complete else "running"
        if self.failure is not None:
            state = f"[b red]failed: {escape(self.failure)}[/]"

        title = Text.from_markup(
            f"[b]{escape(self.scenario.title)}[/]  {record.done:,}/{record.total:,} runs "
            f"({len(spec.entries)} optimizers x {len(spec.lrs)} lrs x {spec.seeds} "
            f"seed{'s' if spec.seeds > 1 else ''}), {spec.metric} by lr: median ● and "
            f"q25-q75 ░, {state}"
        )
        title_rows = max(1, -(-title.cell_len // max(width, 1)))
        self.query_one("#sweep-title", Static).update(title)
        entries = len(spec.entries)
        heat_rows = entries + 2
        tuned_rows = entries + 1
        chart_rows = max(5, height - title_rows - heat_rows - tuned_rows - 1)
        if height < 30:  # a short terminal keeps the chart and heatmap; the table shrinks
            tuned_rows = 1
            chart_rows = max(5, height - title_rows - heat_rows - tuned_rows - 1)
        chart = self.query_one("#sweep-chart", Static)
        chart.styles.height = chart_rows
        chart.update(sensitivity_chart(record, width - 2, chart_rows))
        self.query_one("#sweep-heatmap", Static).update(heatmap(record, width - 2))
        tuned = self.query_one("#sweep-tuned", Static)
        if tuned_rows == 1:
            verdict = record.comparison()["verdict"] if record.complete else "tuning..."
            tuned.update(verdict)
        else:
            tuned.update(tuned_lines(record))

    def action_race_tuned(self) -> None:
        if not self.record.complete:
            self.notify("the sweep is not complete yet", severity="warning")
            return
        self.host.open_scenario(self.record.tuned_race())

