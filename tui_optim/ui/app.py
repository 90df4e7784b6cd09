"""TuiOptimApp: the Textual app that watches (and steers) a race running in a child process.

The engine runs in :class:`tui_optim.race.process.RaceProcess`. One thread worker (group
"engine") only moves messages from its pipe to the app; the app folds them into
:class:`~tui_optim.ui.state.RaceModel` on the main thread and tells the active screen.
Heavy modules (the engine, plotext) are imported lazily so the first frame comes fast.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable
from textual.worker import get_current_worker

from tui_optim.engine.errors import printable
from tui_optim.results.record import RaceRecord
from tui_optim.ui import textual_fixes
from tui_optim.ui.messages import (
    EngineGone,
    EngineMessagesWaiting,
    ModelUpdated,
    RaceStatusChanged,
)
from tui_optim.ui.state import RaceModel, displayable

textual_fixes.apply()

if TYPE_CHECKING:
    from tui_optim.race.messages import Command, RaceStarted
    from tui_optim.race.process import RaceProcess
    from tui_optim.scenario import Scenario
    from tui_optim.ui.screens.export import ExportRequest
    from tui_optim.ui.screens.view import ViewScreen

#: Seconds one poll of the engine pipe may block (also the worst-case quit delay).
POLL_SECONDS = 0.05
#: Exit code when the user quits at a scenario that cannot be used (as the command line).
EXIT_BAD_INPUT = 2
#: Snapshots per second the engine streams to the app.
SNAPSHOT_HZ = 10.0
#: Seconds a race's "what to look for" notes show when it starts.
NOTES_SECONDS = 12
#: The title of the scenario's notes (their text says what to look for in its own words).
NOTES_TITLE = "About this race"

#: The paces the slower/faster keys step through, in steps per second (None: no limit).
PACES: tuple[float | None, ...] = (1.0, 2.0, 5.0, 20.0, 100.0, 1000.0, None)
#: A surface race starts at the fastest pace that still makes it last this long.
WATCH_SECONDS = 4.0
#: A network (MLP) race starts at the round pace that makes it last about this long.
MLP_WATCH_SECONDS = 30.0


def default_pace(scenario: Scenario, started: RaceStarted | None = None) -> float | None:
    """The pace a scenario starts at in the app, in steps per second (None: no limit).

    - Its ``pace`` key when it has one.
    - A 2-D surface: the fastest preset at which it lasts WATCH_SECONDS. Each step is the
      lesson there (the trail drawn step by step, the inspector), so a 10-step race takes
      5 s at 2 steps/s.
    - A network race: the round 1-2-5 pace (10, 20, 50, 100, 200, 500, ... steps/s) at which
      its planned steps last about MLP_WATCH_SECONDS (20 to 50 s). Such a race is watched
      for its shape (who leads, who stalls, who diverges) rather than step by step, as a
      time-lapse is: so, as a time-lapse player does, the app fixes the time the whole race
      takes on screen, whatever its length, and rounds the rate the way an oscilloscope's
      timebase is rounded, so the header shows a plain figure; < and > then step through
      the presets from there, and > up to "max" runs it as fast as the machine goes. The
      planned steps depend on the data (examples per batch), which only the engine loads:
      ``started`` is the engine's RaceStarted; before it arrives (None) the pace is unknown
      and this returns None. The engine applies the same rule
      (:func:`tui_optim.race.pace.pace_lasting`), so the header shows the pace it holds.

    Test mode and headless runs (``tui-optim run``) never pace: see TuiOptimApp.
    """
    if scenario.pace is not None:
        return None if math.isinf(scenario.pace) else scenario.pace
    if scenario.surface is None:
        from tui_optim.race.pace import pace_lasting

        return None if started is None else pace_lasting(started, MLP_WATCH_SECONDS)
    steps = scenario.steps if scenario.steps is not None else scenario.epochs or 0
    for pace in reversed(PACES[:-1]):
        if pace is not None and steps / pace >= WATCH_SECONDS:
            return pace
    return PACES[0]


def paced_by_the_engine(scenario: Scenario) -> bool:
    """True when the scenario's default pace depends on its planned steps, which only the
    engine knows (a network race without a ``pace`` key): see :func:`default_pace`."""
    return scenario.pace is None and scenario.surface is None


def next_pace(pace: float | None, faster: bool) -> float | None:
    """The preset after (``faster``) or before ``pace``; a pace between presets goes to
    the nearest one in that direction."""
    order = [math.inf if p is None else p for p in PACES]
    current = math.inf if pace is None else pace
    if faster:
        above = [p for p in order if p > current]
        chosen = above[0] if above else order[-1]
    else:
        below = [p for p in order if p < current]
        chosen = below[-1] if below else order[0]
    return None if math.isinf(chosen) else chosen


#: Race states in which the live race can be scrubbed back.
SETTLED = ("paused", "finished")
#: Actions that still work while a dialog (modal screen) is open.
DIALOG_SAFE_ACTIONS = {"quit", "command_palette", "screenshot", "toggle_theme"}
#: The app's actions that also work on the sweep screen.
SWEEP_ACTIONS = {"open_scenario", "help", "screenshot", "toggle_theme", "quit"}


def test_mode_from_env() -> bool:
    """True when TUI_OPTIM_TEST=1: no clocks or speeds on screen, fixed theme, no blink."""
    return os.environ.get("TUI_OPTIM_TEST", "") not in ("", "0")


class TuiOptimApp(App[int]):
    """Race optimizers live. ``scenario``: a built-in name, a .toml path, a Scenario, or None
    for the default scenario. ``test_mode`` (default from TUI_OPTIM_TEST) makes the screen
    deterministic for snapshots. ``catch_signals``: SIGINT, SIGTERM and SIGHUP quit it with
    exit code 128 + the signal (for the app that owns the process)."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-optim"
    # Textual annotates both as ``ClassVar[...] | None``, which mypy reads as an instance
    # variable; they are class variables (Textual reads them from the class).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # type: ignore[misc]
        (0, "-narrow"),
        (110, "-wide"),
        (150, "-wider"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # type: ignore[misc]
        (0, "-short"),
        (32, "-tall"),
    ]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "Pause/resume", tooltip="pause or resume the race"),
        Binding("n", "step_epoch", "Step epoch", tooltip="run one epoch, then pause"),
        Binding(
            "less_than_sign,comma",
            "change_pace(False)",
            "Slower",
            key_display="<",
            tooltip="slower (steps/s: 1 2 5 20 100 1000 max)",
        ),
        Binding(
            "greater_than_sign,full_stop",
            "change_pace(True)",
            "Faster",
            key_display=">",
            tooltip="faster (the header shows the pace)",
        ),
        Binding("r", "restart", "Restart", tooltip="restart with the same seed (or the engine)"),
        Binding("R", "restart(True)", "New seed", show=False, tooltip="restart with a new seed"),
        Binding("a", "add_racer", "Add", tooltip="add a racer (optimizer and hyperparameters)"),
        Binding("d", "remove_racer", "Remove", show=False, tooltip="remove the selected racer"),
        Binding(
            "u",
            "restore_racer",
            "Undo remove",
            tooltip="bring back the racer removed last, as it was (shown once one is removed)",
        ),
        Binding("e", "edit_racer", "Edit", tooltip="edit the selected racer's hyperparameters"),
        Binding("f", "fork_racer", "Fork", tooltip="fork the selected racer with a change"),
        Binding("g", "show_grid", "Grid", tooltip="grid view (grid scenarios)"),
        Binding("v", "show_surface", "Surface", tooltip="surface view (2-D scenarios)"),
        Binding("enter", "show_detail", "Detail", show=False, tooltip="racer detail"),
        Binding("b", "show_leaderboard", "Board", tooltip="leaderboard"),
        Binding("ctrl+e", "export", "Export", tooltip="export JSON, CSV or weights"),
        Binding("ctrl+s", "screenshot", "Screenshot", show=False, tooltip="save an SVG screenshot"),
        Binding("o", "open_scenario", "Open", tooltip="open another scenario"),
        Binding("t", "toggle_theme", "Theme", show=False, tooltip="light or dark theme"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="this help"),
        Binding(
            "w", "look_for", "Look for", show=False, tooltip="what to look for (again: hide it)"
        ),
        Binding("q", "quit", "Quit", tooltip="quit (stops the engine)"),
        # Scrubbing (a replay, or the live race while paused): ahead of the widgets' keys.
        Binding(
            "left",
            "scrub(-1)",
            "Point back",
            key_display="←",
            priority=True,
            show=False,
            tooltip="replay or paused race: back one recorded point (the header shows its step)",
        ),
        Binding(
            "right",
            "scrub(1)",
            "Point on",
            key_display="→",
            priority=True,
            show=False,
            tooltip="replay or paused race: on one recorded point",
        ),
        Binding(
            "shift+left",
            "scrub(-10)",
            "10 back",
            show=False,
            priority=True,
            tooltip="ten recorded points back",
        ),
        Binding(
            "shift+right",
            "scrub(10)",
            "10 on",
            show=False,
            priority=True,
            tooltip="ten recorded points on",
        ),
        Binding(
            "home",
            "scrub_to(False)",
            "Start",
            show=False,
            priority=True,
            tooltip="the start of the race",
        ),
        Binding(
            "end",
            "scrub_to(True)",
            "End",
            show=False,
            priority=True,
            tooltip="the last recorded point (a paused race: live again)",
        ),
    ]
    #: The actions of the keys above, without arguments: they do nothing behind a dialog.
    RACE_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        binding.action.partition("(")[0] for binding in BINDINGS if isinstance(binding, Binding)
    )

    def __init__(
        self,
        scenario: str | Path | Scenario | None = None,
        *,
        test_mode: bool | None = None,
        snapshot_hz: float = SNAPSHOT_HZ,
        catch_signals: bool = False,
        pace: float | Literal["scenario"] | None = "scenario",
        paused: bool = False,
        replay: Path | None = None,
        cluster: Any = None,
    ) -> None:
        """``pace``: steps per second (None: no limit); "scenario" takes the scenario's
        (:func:`default_pace`), except in test mode, where races run at full speed so a
        test waits for no clock. ``paused``: the race starts paused. ``replay``: a results
        file (JSON export) to replay instead of racing: nothing runs, the scrub keys move
        through it. ``cluster``: a ClusterRequest on which sweeps run (None: local
        processes)."""
        super().__init__()
        self.cluster = cluster
        self.catch_signals = catch_signals
        self.test_mode = test_mode_from_env() if test_mode is None else test_mode
        self.pace_request = pace
        self.pace: float | None = None
        #: The engine sets the starting pace from the race's planned steps; the app learns
        #: it from the first RaceStarted (see default_pace).
        self._pace_from_started = False
        self.start_paused = paused
        self.snapshot_hz = snapshot_hz
        #: Show the scenario's "what to look for" when its race starts (off in test mode,
        #: where a toast that times out would make snapshots depend on the clock).
        self.notes_at_start = not self.test_mode
        self._notes_shown_for: tuple[str, str] | None = None
        #: When the notes on screen go away (monotonic clock; 0: none shown), so `w` hides
        #: them instead of stacking a second copy.
        self._notes_until = 0.0
        #: What the engine reported (or the replayed file held).
        self.record: RaceRecord = RaceModel()
        #: The record as it was at the scrubbed step (None: the record itself).
        self._view: RaceRecord | None = None
        self.scrub_step: int | None = None
        self.replay_path = replay
        self.replaying = replay is not None
        self.scenario_request: str | Path | Scenario | None = scenario
        self.scenario: Scenario | None = None
        self.process: RaceProcess | None = None
        #: Engine messages read by the pump thread, not yet applied (see _pump_engine).
        self._inbox: list[Any] = []
        self._inbox_lock = threading.Lock()
        self._inbox_posted = False
        self.selected_racer: int | None = None
        self.theme = "textual-dark"

    @property
    def model(self) -> RaceRecord:
        """What the screens show: the race, or the race as it was at the scrubbed step."""
        return self._view if self._view is not None else self.record

    @property
    def scrub_position(self) -> tuple[int, int] | None:
        """(step shown, last step) while scrubbing or replaying, else None."""
        if self.scrub_step is None:
            return None
        return min(self.scrub_step, self.record.step), self.record.step

    def open_replay(self, path: Path) -> bool:
        """Show the race in results file ``path`` (from its end); the error screen if it is
        not one."""
        from tui_optim.results.replay import ReplayError, load_record

        try:
            record = load_record(path)
        except ReplayError as error:
            from tui_optim.ui.screens.error import ErrorScreen

            self.push_screen(ErrorScreen(str(error), str(path)))
            return False
        self.record = record
        self.replaying = True
        self.title = f"tui-optim — replay of {record.started.title if record.started else path}"
        ids = record.racer_ids()
        self.selected_racer = ids[0] if ids else None
        self._scrub_to(record.step)
        return True

    def _scrub_to(self, step: int) -> None:
        from tui_optim.results.replay import record_at

        self.scrub_step = step
        self._view = record_at(self.record, step)
        self.notify_model()

    def _leave_scrub(self) -> None:
        self.scrub_step = None
        self._view = None

    def action_scrub(self, offset: int) -> None:
        """Move the shown step by ``offset`` recorded points (the live race: while paused or
        finished; past its last step it shows the live race again)."""
        from tui_optim.results.replay import scrub_target

        current = self.record.step if self.scrub_step is None else self.scrub_step
        target = scrub_target(self.record, current, offset)
        if target >= self.record.step and not self.replaying:
            self._leave_scrub()
            self.notify_model()
            return
        self._scrub_to(target)

    def action_scrub_to(self, end: bool) -> None:
        """The first (``end`` False) or the last recorded step."""
        self.action_scrub(10**9 if end else -(10**9))

    @property
    def scenario_label(self) -> str:
        if self.scenario is not None:
            return printable(self.scenario.title)
        return printable(str(self.scenario_request or ""))

    # ------------------------------------------------------------------ lifecycle
    def on_mount(self) -> None:
        from tui_optim.ui.screens.race import RaceScreen

        if self.catch_signals:
            self.catch_stop_signals()
        self.push_screen(RaceScreen())
        if self.replay_path is not None:
            self.open_replay(self.replay_path)
            return
        # Parsing the file and spawning the engine take milliseconds; the engine then loads
        # data while this process draws the first frame.
        self.open_scenario(self.scenario_request)

    def open_scenario(self, request: str | Path | Scenario | None) -> bool:
        """Load ``request`` and start racing it; on a bad scenario show the error screen."""
        from tui_optim.scenario import Scenario

        try:
            scenario = request if isinstance(request, Scenario) else load_scenario_request(request)
        except (ValueError, OSError) as error:
            from tui_optim.ui.screens.error import ErrorScreen

            self.push_screen(ErrorScreen(one_line(error), request))
            return False
        self.scenario_request = request
        self.scenario = scenario
        self.replaying = False
        self.title = f"tui-optim — {printable(scenario.title)}"
        if self._on_sweep_screen():
            self.pop_screen()  # its workers stop as it unmounts
        if scenario.sweep is not None:
            from tui_optim.ui.screens.sweep import SweepScreen

            self.stop_engine()
            self.model.reset()
            self.push_screen(SweepScreen(scenario, cluster=self.cluster))
            return True
        self.start_engine()
        return True

    def _on_sweep_screen(self) -> bool:
        """True when the sweep screen is active. Its module (and the sweep runner it imports)
        is loaded only for a sweep: the screen can be one only if the module was imported."""
        sweep_module = sys.modules.get("tui_optim.ui.screens.sweep")
        return sweep_module is not None and isinstance(self.screen, sweep_module.SweepScreen)

    def start_engine(self) -> None:
        """(Re)start the engine process for the current scenario."""
        from tui_optim.race.process import RaceProcess

        self.stop_engine()
        self.record.reset()
        self._leave_scrub()
        self.selected_racer = None
        assert self.scenario is not None
        watch_seconds = None
        if self.pace_request != "scenario":
            self.pace = self.pace_request
        elif self.test_mode:
            self.pace = None  # a test waits for no clock
        else:
            self.pace = default_pace(self.scenario)
            if paced_by_the_engine(self.scenario):
                watch_seconds = MLP_WATCH_SECONDS
        self._pace_from_started = watch_seconds is not None
        process = RaceProcess(
            self.scenario,
            processes=1,
            snapshot_hz=self.snapshot_hz,
            pace=self.pace,
            watch_seconds=watch_seconds,
            paused=self.start_paused,
        )
        self.start_paused = False  # only the first race; a restart starts running
        process.start()
        self.process = process
        self._pump_engine(process)
        self.notify_model()

    def stop_engine(self) -> None:
        """Close the engine process (if any); leaves no child process behind."""
        with self._inbox_lock:
            self.workers.cancel_group(self, "engine")
            self._inbox.clear()
        process, self.process = self.process, None
        if process is not None:
            process.close()

    async def on_event(self, event: events.Event) -> None:
        # Keys typed in the same burst as the one that quits arrive when the screen stack is
        # already empty; Textual then raised ScreenStackError ("No screens on stack").
        if isinstance(event, events.Key) and not self.screen_stack:
            return
        await super().on_event(event)

    def action_command_palette(self) -> None:
        # Textual looks only at the top screen for an open palette: a second ctrl+p typed
        # while the first palette is still a child of the app (under a dialog a command
        # opened, or not yet removed after Escape) pushed another with the same id
        # (DuplicateIds, the app ended).
        # (App.children holds only the active screen; the registered screens are _nodes.)
        if any(node.id == "--command-palette" for node in self._nodes):
            return
        super().action_command_palette()

    async def action_quit(self) -> None:
        from tui_optim.ui.screens.error import ErrorScreen

        # Quitting at a scenario's error screen with no race running ends on bad input.
        bad_input = isinstance(self.screen, ErrorScreen) and self.process is None
        self.stop_engine()
        code = EXIT_BAD_INPUT if bad_input else 0
        self.exit(code, return_code=code)

    def catch_stop_signals(self) -> None:
        """SIGINT, SIGTERM and SIGHUP end the app like q, with exit code 128 + the signal,
        through Textual's own shutdown (the terminal leaves the alternate screen, mouse
        reporting off). For an app that owns its process (``catch_signals``, run_app)."""
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None:
                loop.add_signal_handler(signum, self._stop_on_signal, int(signum))

    def _stop_on_signal(self, signum: int) -> None:
        if self.return_code is None:
            self.stop_engine()
            self.exit(128 + signum, return_code=128 + signum)

    def on_unmount(self) -> None:
        self.stop_engine()

    # ------------------------------------------------------------------ engine plumbing
    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _pump_engine(self, process: RaceProcess) -> None:
        """Move messages from the engine pipe to the app; report when the engine is gone."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            # Looked at before the poll: a child that reports and exits in between has its
            # last words (an invalid scenario's EngineFailed) read before it is called gone.
            gone = not process.alive
            try:
                messages = process.poll(0.0 if gone else POLL_SECONDS)
            except (EOFError, OSError) as error:
                if not worker.is_cancelled:
                    self.post_message(EngineGone(f"engine stopped: {one_line(error)}"))
                return
            if messages:
                with self._inbox_lock:
                    if worker.is_cancelled:
                        return
                    self._inbox.extend(messages)
                    post = not self._inbox_posted
                    self._inbox_posted = True
                # Back-pressure: one EngineMessagesWaiting in flight at a time. When the app is
                # slower than the engine, messages pile up here and are applied in one go
                # with one redraw, instead of a queue of redraws that lags further and
                # further behind (and a pipe that fills and stalls the engine).
                if post:
                    self.post_message(EngineMessagesWaiting())
            elif worker.is_cancelled:
                return
            if gone:
                self.post_message(EngineGone("engine stopped"))
                return

    def on_engine_messages_waiting(self, message: EngineMessagesWaiting) -> None:
        from tui_optim.race.messages import (
            CommandRejected,
            EngineFailed,
            RaceStarted,
            WeightsSaved,
        )

        with self._inbox_lock:
            batch, self._inbox = self._inbox, []
            self._inbox_posted = False
        state = self.record.state
        pace = self.pace
        departed = len(self.record.departed)
        for item in map(displayable, batch):
            self.record.apply(item)
            if isinstance(item, RaceStarted) and self._pace_from_started:
                # The pace the engine set from the planned steps (a restart keeps the pace
                # the race has: only the first RaceStarted sets it).
                self._pace_from_started = False
                if self.scenario is not None:
                    self.pace = default_pace(self.scenario, item)
            if isinstance(item, CommandRejected):
                self.notify(
                    item.message, title=f"{item.command} rejected", severity="error", markup=False
                )
            elif isinstance(item, WeightsSaved):
                self.notify(f"weights saved to {', '.join(item.paths)}", title="export")
            elif isinstance(item, RaceStarted):
                self._notes_at_start(item)
            elif isinstance(item, EngineFailed) and item.invalid_scenario:
                from tui_optim.ui.screens.error import ErrorScreen

                self.stop_engine()
                self.push_screen(ErrorScreen(item.message, self.scenario_request))
            elif isinstance(item, EngineFailed):
                self.notify(
                    f"{item.message} — press r to restart",
                    title="engine",
                    severity="error",
                    markup=False,
                )
        if self.selected_racer not in self.model.specs:
            ids = self.model.racer_ids()
            self.selected_racer = ids[0] if ids else None
        if len(self.record.departed) != departed:
            self.refresh_bindings()  # u (undo remove) shows or goes
        if self.record.state == "running":
            self._leave_scrub()  # resumed: the live race again
        elif self.scrub_step is not None:
            from tui_optim.results.replay import record_at

            self._view = record_at(self.record, self.scrub_step)
        if (self.model.state != state or self.pace != pace) and self.screen_stack:
            self.screen.post_message(RaceStatusChanged())
        self.notify_model()

    def on_engine_gone(self, message: EngineGone) -> None:
        if self.replaying:
            return
        if self.record.engine_error is None:
            self.record.mark_engine_stopped(message.reason)
            self.notify(f"{message.reason} — press r to restart", severity="error", timeout=10)
        self.notify_model()

    def notify_model(self) -> None:
        """Tell the active screen that the model changed."""
        if not self.screen_stack:  # shutting down: engine messages can still arrive
            return
        self.screen.post_message(ModelUpdated(self.model.version))

    def send_command(self, command: Command) -> bool:
        """Send ``command`` to the engine; False (and a message) when it is not running."""
        if self.replaying:
            self.notify("a replay: nothing runs (o opens a scenario)", severity="warning")
            return False
        if self.process is None or self.record.engine_error is not None:
            self.notify("the engine is stopped — press r to restart", severity="warning")
            return False
        try:
            self.process.send(command)
        except (OSError, EOFError, ValueError) as error:
            self.record.mark_engine_stopped(f"engine stopped: {one_line(error)}")
            self.notify_model()
            self.notify("the engine stopped — press r to restart", severity="error")
            return False
        return True

    # ------------------------------------------------------------------ actions: race
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Race keys must not fire behind a dialog (e.g. "d" while typing a name elsewhere).
        # Only ours: Textual's own app actions (tab's focus_next among them) work in dialogs.
        race_key = action in self.RACE_ACTIONS and action not in DIALOG_SAFE_ACTIONS
        if race_key and action not in SWEEP_ACTIONS and self._on_sweep_screen():
            return False  # a sweep has no racers to pause, edit or view: keys hidden
        if race_key and isinstance(self.screen, ModalScreen):
            return False
        if action == "restore_racer":
            return bool(self.record.departed)  # in the footer once a racer is removed
        if action in ("scrub", "scrub_to"):
            # False, not None: the keys then go on to the widgets. A live race's table keeps
            # its arrows (to scroll its columns); a replay's arrows always scrub.
            if self.replaying:
                return True
            settled = self.record.started is not None and self.record.state in SETTLED
            return settled and not isinstance(self.focused, DataTable)
        return True

    def action_toggle_pause(self) -> None:
        from tui_optim.race.messages import Pause, Resume

        if self.replaying:
            self.send_command(Pause())  # says why nothing runs
        elif self.model.state == "running":
            self.send_command(Pause())
        elif self.model.state == "finished":
            self.notify("the race is finished — r restarts it")
        else:
            self.send_command(Resume())

    def action_step_epoch(self) -> None:
        from tui_optim.race.messages import StepEpoch

        self.send_command(StepEpoch())

    def action_change_pace(self, faster: bool) -> None:
        """Step to the next faster or slower preset pace; the engine holds the race to it."""
        from tui_optim.race.messages import SetPace
        from tui_optim.ui.widgets.race_header import pace_label

        pace = next_pace(self.pace, faster)
        if self.send_command(SetPace(pace)):
            self.pace = pace
            self.screen.post_message(RaceStatusChanged())
            self.notify(f"pace: {pace_label(pace)}", timeout=2)

    def action_restart(self, new_seed: bool = False) -> None:
        """Restart the race (``new_seed``: with another seed); asks first when that would
        drop racers added or forked, or hyperparameters edited, during the race."""
        if self.scenario is None:
            self.action_open_scenario()
            return
        if self.process is None or self.model.engine_error is not None or not self.process.alive:
            self.start_engine()
            self.notify("engine restarted")
            return
        changes = changes_since_start(self.model)
        if not changes:
            self._restart(new_seed, True)
            return
        from tui_optim.ui.screens.export import ConfirmScreen

        what = "with a new seed" if new_seed else "from the start"
        question = f"Restart {what}? It starts the scenario again and drops {changes}."
        self.push_screen(
            ConfirmScreen(question, "Restart"), lambda yes: self._restart(new_seed, yes)
        )

    def _restart(self, new_seed: bool, confirmed: bool | None) -> None:
        from tui_optim.race.messages import Restart

        if confirmed:
            self.send_command(Restart(new_seed=new_seed))

    def _selected_spec(self) -> Any:
        spec = None if self.selected_racer is None else self.model.specs.get(self.selected_racer)
        if spec is None:
            self.notify("no racer selected", severity="warning")
        return spec

    def action_add_racer(self) -> None:
        from tui_optim.ui.screens.add_racer import AddRacerScreen

        flavor = self.scenario.flavor if self.scenario is not None else "torch"
        self.push_screen(AddRacerScreen(flavor=flavor), self._send_if_command)

    def action_remove_racer(self) -> None:
        """Remove the selected racer, after a yes (``u`` brings it back)."""
        from tui_optim.ui.screens.export import ConfirmScreen

        spec = self._selected_spec()
        if spec is None:
            return

        def answered(yes: bool | None) -> None:
            from tui_optim.race.messages import RemoveRacer

            if yes and self.send_command(RemoveRacer(spec.id)):
                self.notify(f"removing {spec.name} (u brings it back)")

        question = f"Remove {spec.name} from the race? u brings it back, with its history."
        self.push_screen(ConfirmScreen(question, "Remove"), answered)

    def action_restore_racer(self) -> None:
        """Bring back the racer removed last, with its weights, optimizer state and history
        (the engine kept them; it sat out the steps taken meanwhile)."""
        from tui_optim.race.messages import RestoreRacer

        if not self.record.departed:
            self.notify("no removed racer to bring back", severity="warning")
            return
        spec = self.record.departed[next(reversed(self.record.departed))][0]
        if self.send_command(RestoreRacer()):
            self.notify(f"bringing back {spec.name}")

    def action_edit_racer(self) -> None:
        from tui_optim.ui.screens.edit import EditScreen

        spec = self._selected_spec()
        if spec is not None:
            self.push_screen(EditScreen(spec), self._send_commands)

    def action_fork_racer(self) -> None:
        from tui_optim.ui.screens.edit import ForkScreen

        spec = self._selected_spec()
        if spec is not None:
            self.push_screen(ForkScreen(spec), self._send_if_command)

    def _send_if_command(self, command: Command | None) -> None:
        if command is not None:
            self.send_command(command)

    def _send_commands(self, commands: list[Command] | None) -> None:
        for command in commands or []:
            if not self.send_command(command):
                return

    # ------------------------------------------------------------------ actions: views
    def show_view(self, screen_class: type[ViewScreen]) -> None:
        """Push a view of the race (unless it is on top already), or say why it has none."""
        reason = screen_class.unavailable(self)
        if reason is not None:
            self.notify(reason, severity="warning")
            return
        if not isinstance(self.screen, screen_class):
            self.push_screen(screen_class())

    # The view screens are imported when first shown: the first frame does not wait for them.
    def action_show_grid(self) -> None:
        from tui_optim.ui.screens.grid import GridScreen

        self.show_view(GridScreen)

    def action_show_surface(self) -> None:
        from tui_optim.ui.screens.surface import SurfaceScreen

        self.show_view(SurfaceScreen)

    def action_show_detail(self) -> None:
        from tui_optim.ui.screens.detail import DetailScreen

        self.show_view(DetailScreen)

    def action_show_leaderboard(self) -> None:
        from tui_optim.ui.screens.leaderboard import LeaderboardScreen

        self.show_view(LeaderboardScreen)

    def _notes_at_start(self, started: RaceStarted) -> None:
        """The scenario's notes for :data:`NOTES_SECONDS`, once per scenario (a restart of
        the same one does not show them again; `w` does)."""
        from tui_optim.ui import format as fmt

        shown_for = (started.scenario, started.title)
        if not self.notes_at_start or not started.notes or shown_for == self._notes_shown_for:
            return
        self._notes_shown_for = shown_for
        self._show_notes(f"{fmt.reflow(started.notes)}\n(w shows this again)", NOTES_SECONDS)

    def action_look_for(self) -> None:
        """Show the scenario's notes, or hide them when they are showing."""
        from tui_optim.ui import format as fmt

        if time.monotonic() < self._notes_until:
            self.clear_notifications()
            self._notes_until = 0.0
            return
        started = self.model.started
        notes = fmt.reflow(started.notes) if started is not None else ""
        self._show_notes(notes or "this scenario says nothing", 30)

    def _show_notes(self, text: str, seconds: float) -> None:
        self.notify(text, title=NOTES_TITLE, timeout=seconds)
        self._notes_until = time.monotonic() + seconds

    def action_help(self) -> None:
        from tui_optim.ui.screens.help import HelpScreen
        from tui_optim.ui.screens.race import RaceScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([*self.BINDINGS, *RaceScreen.BINDINGS]))

    def action_open_scenario(self) -> None:
        from tui_optim.ui.screens.open_scenario import OpenScenarioScreen

        self.push_screen(OpenScenarioScreen(), self._open_chosen)

    def _open_chosen(self, request: str | None) -> None:
        from tui_optim.ui.screens.error import ErrorScreen

        if request is None:
            return
        while isinstance(self.screen, ErrorScreen):
            self.pop_screen()
        self.open_scenario(request)

    def action_export(self) -> None:
        from tui_optim.ui.screens.export import ExportScreen

        if self.model.started is None:
            self.notify("nothing to export yet", severity="warning")
            return
        stem = self.scenario.name if self.scenario is not None else ""
        grid = self.model.started.grid is not None
        self.push_screen(ExportScreen(stem, grid=grid), self._export)

    def _export(self, request: ExportRequest | None) -> None:
        if request is None:
            return
        try:
            written = self.export_race(request.kind, request.path)
        except (OSError, ValueError) as error:
            self.notify(f"export failed: {one_line(error)}", severity="error")
            return
        if written:
            self.notify(f"exported {request.kind} to {request.path}")

    def export_race(self, kind: str, path: Path) -> bool:
        """Write the race so far as ``kind`` ("json", "csv", "weights", "grid": the grid
        table) to ``path``, atomically.

        JSON and CSV are written now from the model (True); the weights live in the engine,
        which writes them and answers WeightsSaved (False: the file comes a moment later).
        """
        from tui_optim.race.messages import SaveWeights
        from tui_optim.results.export import write_csv, write_grid_table, write_json

        if kind == "json":
            write_json(self.record, path)
        elif kind == "grid":
            write_grid_table(self.record, path)
        elif kind == "csv":
            write_csv(self.record, path)
        elif kind == "weights":
            if not self.send_command(SaveWeights(str(path), archive=True)):
                raise ValueError("the engine is stopped; restart it (r) to export weights")
            return False
        else:
            raise ValueError(f"unknown export kind {kind!r}")
        return True

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen to ``path`` (default: here) as ``filename`` (default:
        :func:`screenshot_name`)."""
        folder = Path(path) if path is not None else Path.cwd()
        filename = filename or screenshot_name(self.scenario, folder)
        saved = self.save_screenshot(filename=filename, path=path)
        self.notify(f"screenshot saved to {saved}", timeout=4)

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    # ------------------------------------------------------------------ command palette
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands, then every key of the app and of ``screen`` as a command."""
        yield from super().get_system_commands(screen)
        keys: list[tuple[DOMNode, BindingType]] = [(self, binding) for binding in self.BINDINGS]
        keys += [(screen, binding) for binding in screen.BINDINGS]
        for owner, binding in keys:
            if not isinstance(binding, Binding):
                continue
            key = binding.key_display or binding.key
            yield SystemCommand(
                f"{binding.description} ({key})",
                binding.tooltip or f"same as pressing {key}",
                _action_callback(self, binding.action, owner),
            )


def changes_since_start(model: RaceRecord) -> str:
    """What a restart would drop, in words ("1 added racer and 2 edits"), or "" for nothing:
    racers added or forked since the race started, and hyperparameters edited live."""
    if model.started is None:
        return ""
    original = {spec.id: spec for spec in model.started.racers}
    added = sum(1 for rid in model.specs if rid not in original)
    edited = sum(
        1
        for rid, spec in model.specs.items()
        if rid in original and spec.hparams != original[rid].hparams
    )
    parts = []
    if added:
        parts.append(f"{added} added or forked racer{'s' if added > 1 else ''}")
    if edited:
        parts.append(f"the live edits of {edited} racer{'s' if edited > 1 else ''}")
    return " and ".join(parts)


def screenshot_name(scenario: Scenario | None, folder: Path) -> str:
    """A plain file name for a screenshot in ``folder``: ``tui-optim-quickstart-20260101-
    120000.svg`` (letters, digits and dashes; never one that exists)."""
    import re

    label = (scenario.name or scenario.title) if scenario is not None else "race"
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "race"
    stem = f"tui-optim-{slug}-{time.strftime('%Y%m%d-%H%M%S')}"
    name, count = f"{stem}.svg", 2
    while (folder / name).exists():
        name, count = f"{stem}-{count}.svg", count + 1
    return name


def _action_callback(app: App[Any], action: str, owner: DOMNode) -> Any:
    """Run ``action`` as its key would: on ``owner``, the app or a screen."""

    async def run() -> None:
        await app.run_action(action, owner)

    return run


def load_scenario_request(request: str | Path | None) -> Scenario:
    """Load a built-in name, a file path or (None) the default scenario."""
    from tui_optim.scenario import DEFAULT_SCENARIO, load_scenario

    # Parsing only: the engine checks data and model in its own process (EngineFailed with
    # invalid_scenario), so the first frame never waits for scikit-learn's import.
    return load_scenario(DEFAULT_SCENARIO if request is None else request, check=False)


def one_line(error: BaseException) -> str:
    """An exception as one line for the user (no traceback), control characters escaped."""
    text = str(error).strip().splitlines()
    return printable(text[0]) if text else type(error).__name__


def exit_code(app: App[Any]) -> int:
    """The process exit code of an app that ran: the code it exited with, 1 when it crashed
    (Textual's ``return_code``; ``run()`` then returns None)."""
    return app.return_code or 0


def run_app(
    scenario: str | Path | None = None,
    *,
    paused: bool = False,
    replay: Path | None = None,
    cluster: Any = None,
) -> int:
    """Run the app in this terminal until the user quits; returns the exit code.
    ``paused``: the race starts paused (space starts it); ``replay``: show a results file;
    ``cluster``: a ClusterRequest on which sweeps run."""
    app = TuiOptimApp(scenario, catch_signals=True, paused=paused, replay=replay, cluster=cluster)
    app.run()
    return exit_code(app)
