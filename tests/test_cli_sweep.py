"""`tui-optim sweep`: the table, the JSON contract, determinism, bad input, Ctrl+C."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_scenarios import iris_sweep

from tui_optim.cli import main


def write(tmp_path: Path, epochs: int = 3, extra: str = "") -> Path:
    path = tmp_path / "sweep.toml"
    text = iris_sweep(
        title="cli sweep",
        seed=7,
        epochs=epochs,
        optimizers='["sgd", { optimizer = "sgd", momentum = 0.9, name = "SGD+mom" }, "adam"]',
        lr="{ from = 0.001, to = 1.0, points = 4 }",
        seeds=3,
        extra=extra,
    )
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sweep_prints_a_table_and_writes_the_json_contract_and_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path)
    out_json, out_csv = tmp_path / "s.json", tmp_path / "s.csv"
    args = ["sweep", str(path), "--json", str(out_json), "--csv", str(out_csv), "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    for word in ("tuned lr", "final_loss", "IQR", "width (decades)", "diverged", "SGD+mom"):
        assert word in out
    assert "no clear winner" in out or " wins: " in out
    document = json.loads(out_json.read_text())
    assert list(document) == [
        "scenario", "seed", "fingerprint", "metric", "points", "curves", "tuned", "comparison"
    ]
    assert len(document["points"]) == 3 * 4 * 3
    point = document["points"][0]
    for key in ("optimizer", "lr", "seed", "status", "metric", "final_loss", "best_loss"):
        assert key in point
    assert point["optimizer"] == "sgd" and point["lr"] == 0.001 and point["seed"] == 7
    assert set(document["curves"]) == {"sgd", "SGD+mom", "adam"}
    cell = document["curves"]["adam"][0]
    assert {"lr", "median", "q25", "q75", "diverged"} <= set(cell)
    tuned = document["tuned"]["adam"]
    assert {"lr", "median", "q25", "q75", "width_decades"} <= set(tuned)
    comparison = document["comparison"]
    assert set(comparison["p_beats"]["sgd"]) == {"SGD+mom", "adam"}
    assert isinstance(comparison["verdict"], str)
    with out_csv.open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 36 and rows[0]["optimizer"] == "sgd"
    # the same sweep writes the same JSON (no timings in it); --race then races the tuned lrs
    again = tmp_path / "again.json"
    assert main(["sweep", str(path), "--json", str(again), "--quiet", "--race"]) == 0
    assert again.read_bytes() == out_json.read_bytes()
    out = capsys.readouterr().out
    assert "P(win) at the tuned learning rates" in out
    assert "(x3)" in out  # each tuned optimizer raced over the 3 seeds


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('metric = "steps_to_target"', "sweep.metric: steps_to_target needs target_loss"),
        ('metric = "accuracy"', "sweep.metric: unknown value 'accuracy'"),
    ],
)
def test_bad_sweeps_exit_2_with_one_line_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, expected: str
) -> None:
    path = write(tmp_path, extra=extra)
    out_json = tmp_path / "s.json"
    assert main(["sweep", str(path), "--json", str(out_json)]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1
    assert not out_json.exists()


def test_run_refuses_a_sweep_and_sweep_refuses_a_race(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(write(tmp_path)), "--headless"]) == 2
    assert "is a sweep; run it with `tui-optim sweep" in capsys.readouterr().err
    assert main(["sweep", "quickstart"]) == 2
    assert "no [sweep] table" in capsys.readouterr().err


def test_ctrl_c_writes_the_runs_done_and_exits_130(tmp_path: Path) -> None:
    path = write(tmp_path, epochs=10000)  # a block (one seed) takes longer than 2 s
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_optim", "sweep", str(path), "--json", "partial.json",
         "--processes", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    # piped, progress is a line every ~2 s: "12/36 runs  3.1 runs/s  ETA 8s"
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            pytest.fail("the sweep ended before it could be interrupted")
        match = re.match(r"([\d,]+)/36 runs", line)
        if match and int(match.group(1)) >= 12:  # the first block (one seed) is done
            break
    else:
        pytest.fail("no progress past the first block within a minute")
    os.kill(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    document = json.loads((tmp_path / "partial.json").read_text())
    assert 12 <= len(document["points"]) < 36
    assert "interrupted" in err and "tuned lr" in out


def test_a_headless_run_has_no_racer_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text(
        'title = "216 racers"\nsteps = 2\n[data]\nsource = "iris"\nbatch_size = 32\n'
        '[model]\nlayers = [4, 8, 3]\nhidden = "selu"\noutput = "softmax"\n'
        'loss = "cross_entropy"\n[grid]\n'
        'optimizer = ["sgd", "adagrad", "rmsprop", "adam", "adamax", "nadam"]\n'
        f"lr = {[round(10 ** (-5 + k * 7 / 35), 8) for k in range(36)]}\n",
        encoding="utf-8",
    )
    assert main(["check", str(path)]) == 2  # the app keeps its limit
    out_json = tmp_path / "big.json"
    args = ["run", str(path), "--headless", "--quiet", "--processes", "1", "--json", str(out_json)]
    assert main(args) == 0
    assert len(json.loads(out_json.read_text())["racers"]) == 216


def test_large_sweeps_spread_over_the_cores_small_ones_do_not() -> None:
    from tui_optim.cli.sweep import default_sweep_processes
    from tui_optim.scenario import load_scenario

    assert default_sweep_processes(load_scenario("iris_sweep", check=False), 10, 2) == 2
    assert default_sweep_processes(load_scenario("digits_sweep", check=False), 6, 4) == 4
    assert default_sweep_processes(load_scenario("peaks_sweep", check=False), 1, 2) == 1


def test_sweep_checks_its_outputs_and_processes_as_run_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path)
    assert main(["sweep", str(path), "--json", str(path)]) == 2
    assert "that is an input of the race" in capsys.readouterr().err
    same = tmp_path / "same"
    assert main(["sweep", str(path), "--json", str(same), "--csv", str(same)]) == 2
    assert "--json writes there too" in capsys.readouterr().err
    assert main(["sweep", str(path), "--processes", "65"]) == 2
    assert "--processes must be in [1, 64], got 65" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8").startswith('title = "cli sweep"')


def test_an_export_that_fails_is_exit_1_after_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui_optim.results.sweep as results

    def full_disk(record: object, path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(results, "write_sweep_json", full_disk)
    out_csv = tmp_path / "s.csv"
    args = ["sweep", str(write(tmp_path)), "--quiet", "--json", str(tmp_path / "s.json")]
    assert main([*args, "--csv", str(out_csv)]) == 1
    captured = capsys.readouterr()
    assert "tuned lr" in captured.out and out_csv.exists()
    assert "s.json: not written (No space left on device)" in captured.err
