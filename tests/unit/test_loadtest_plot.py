"""The benchmark on the install `make run` makes: no matplotlib, no python-socketio — a note, not a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from chatserver.config import PROJECT_ROOT
from loadtest.compare import check_peers
from loadtest.plot import NO_PLOT_NOTE, plot_available
from loadtest.report import Report
from loadtest.scenarios import write_report
from loadtest.sessions import SetupError


def _report() -> Report:
    return Report(
        scenario="fanout", target="chatserver", url="http://127.0.0.1:8000", rooms=1, subscribers_per_room=2,
        connections=3, duration_s=1.0, published=2, delivered=4, expected_deliveries=4, lost=0, duplicates=0,
        out_of_order=0, unacked_delivered=0, delivered_per_s=4.0, latency_ms={"p50": 1.0}, server_rss_bytes=None,
        server_cpu_pct=None, server_cpu_us_per_delivery=None, redis_cpu_pct=None, db_cpu_pct=None,
        loadgen_cpu_us_per_message=None, loadgen_processes=1,
    )  # fmt: skip


def _samples() -> tuple[array[int], array[int]]:
    return array("i", [10, 20, 1500, 1600]), array("q", [900, 1100, 1200, 5000])


def test_without_matplotlib_the_json_is_written_and_one_line_says_how_to_get_the_plot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as on the `[embedded]` install
    assert not plot_available()
    path = tmp_path / "out" / "fanout.json"
    write_report(_report(), path, *_samples(), plot=True)
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["delivered"] == 4
    assert written["plot"] is None
    assert not path.with_suffix(".png").exists()
    err = capsys.readouterr().err
    assert err.splitlines() == [NO_PLOT_NOTE]
    assert "dev" in err and "matplotlib" in err


def test_with_matplotlib_the_png_lies_beside_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "fanout.json"
    write_report(_report(), path, *_samples(), plot=True)
    assert json.loads(path.read_text(encoding="utf-8"))["plot"] == "fanout.png"
    assert path.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert capsys.readouterr().err == ""


def test_no_plot_asked_means_no_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    write_report(_report(), tmp_path / "r.json", *_samples(), plot=False)
    assert (tmp_path / "r.json").exists()
    assert capsys.readouterr().err == ""


def test_a_peer_whose_modules_are_missing_is_refused_before_anything_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "socketio", None)
    with pytest.raises(SetupError, match=r"dev-extra.*--peers starlette,bare"):
        check_peers("socketio,starlette")
    assert check_peers("bare, starlette") == ["bare", "starlette"]


def test_compare_without_the_dev_extra_says_so_in_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    # A fresh interpreter in which matplotlib and python-socketio cannot be imported, as after `make run`.
    code = (
        "import sys\n"
        "for name in ('matplotlib', 'socketio', 'aiohttp'):\n"
        "    sys.modules[name] = None\n"
        "from loadtest.__main__ import main\n"
        f"raise SystemExit(main(['compare', '--duration', '1', '--out', {str(tmp_path)!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "socketio" in lines[0] and "dev-extra" in lines[0]
