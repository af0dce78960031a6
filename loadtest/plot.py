"""The latency-over-time plot written beside each JSON report (matplotlib, Agg backend, optional).

matplotlib comes with the ``dev`` extra only; the install ``make run`` makes
(``[embedded]``) lacks it, so a run without it writes the JSON report and
says once, in one line, how to get the plot.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

MAX_POINTS = 50_000
NO_PLOT_NOTE = (
    "loadtest: geen grafiek (PNG): matplotlib ontbreekt; installeer de dev-extra met "
    "`pip install -e '.[dev]'` (of `make install-test`) / no plot: matplotlib is missing, install the dev extra"
)


def plot_available() -> bool:
    """Whether matplotlib imports (also false for a broken install or a ``sys.modules`` entry of None)."""
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return False
    return True


def plot_latency(recv_ms: Sequence[int], latencies_us: Sequence[int], path: Path, title: str) -> None:
    """Scatter of per-delivery latency against time since start, with the p99 per second as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(latencies_us)
    step = max(1, n // MAX_POINTS)
    xs = [recv_ms[i] / 1000.0 for i in range(0, n, step)]
    ys = [latencies_us[i] / 1000.0 for i in range(0, n, step)]
    per_second: dict[int, list[int]] = {}
    for t, lat in zip(recv_ms, latencies_us, strict=True):
        per_second.setdefault(t // 1000, []).append(lat)
    seconds = sorted(per_second)
    p99 = []
    for s in seconds:
        values = sorted(per_second[s])
        p99.append(values[min(len(values) - 1, int(0.99 * len(values)))] / 1000.0)
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    ax.scatter(xs, ys, s=1, alpha=0.3, label="aflevering")
    ax.plot([s + 0.5 for s in seconds], p99, color="crimson", label="p99 per seconde")
    ax.set_xlabel("tijd sinds start (s)")
    ax.set_ylabel("latentie (ms)")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
