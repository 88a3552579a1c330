"""PNG charts of the benchmarks, written beside their tables in results/ (matplotlib, no display needed).

- `load_chart`: the load bench (scripts/bench_load.py): turn latency p50/p95/p99 at the latency phase's
  people and saturated throughput, per target (the moodbot, our bot on 1 and 2 Rasa servers).
- `dashboard_chart`: the staff-dashboard bench (scripts/bench_dashboard.py): median time per page and
  database, with the 300 ms target.

Redraw the load chart from a saved run: `.venv/bin/python -m scripts.bench_charts results/bench_load.json`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

PERCENTILES = (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"))
COLOURS = ("#4c72b0", "#dd8452", "#c44e52")  # p50, p95, p99; throughput uses the first


def _figure(width: float, height: float):
    # The object-oriented API draws with the Agg canvas: no display, no global pyplot state.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _label_bars(ax, bars, values, digits: int) -> None:
    ax.bar_label(bars, labels=["n/a" if v is None else f"{v:.{digits}f}" for v in values], padding=2, fontsize=8)


def load_chart(table: dict[str, dict[str, dict[str, Optional[float]]]], path: Path, people: int = 10,
               title: str = "Load benchmark") -> Path:
    """Write the load bench's chart; `table` is bench_load's {target: {"latency"|"throughput": {metric: value}}}.

    A figure that was not measured (None, e.g. a --targets subset) is drawn as an empty bar marked n/a.
    """
    targets = list(table)
    figure = _figure(10, 4.2)
    latency_ax, throughput_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": (3, 2)})
    width = 0.8 / len(PERCENTILES)
    for i, ((key, label), colour) in enumerate(zip(PERCENTILES, COLOURS, strict=True)):
        values = [table[t].get("latency", {}).get(key) for t in targets]
        xs = [n + (i - 1) * width for n in range(len(targets))]
        bars = latency_ax.bar(xs, [0 if v is None else v for v in values], width, label=label, color=colour)
        _label_bars(latency_ax, bars, values, 0)
    latency_ax.set_title(f"Turn latency, {people} people with think time")
    latency_ax.set_ylabel("ms")
    latency_ax.set_xticks(range(len(targets)), targets)
    latency_ax.legend(frameon=False)

    values = [table[t].get("throughput", {}).get("throughput") for t in targets]
    bars = throughput_ax.bar(range(len(targets)), [0 if v is None else v for v in values], 0.6, color=COLOURS[0])
    _label_bars(throughput_ax, bars, values, 1)
    throughput_ax.set_title("Saturated throughput")
    throughput_ax.set_ylabel("answered turns per second")
    throughput_ax.set_xticks(range(len(targets)), targets)
    for ax in (latency_ax, throughput_ax):
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(y=0.12)
    figure.suptitle(title)
    return _save(figure, path)


def dashboard_chart(results: dict[str, dict[str, float]], path: Path, target_ms: float = 300,
                    title: str = "Staff dashboard") -> Path:
    """Write the dashboard bench's chart; `results` is {database: {"<page> (ms)": median, ...}}."""
    databases = list(results)
    pages = [key for key in next(iter(results.values()), {}) if key.endswith("(ms)")]
    figure = _figure(9, 1.5 + 0.35 * len(pages) * max(1, len(databases)))
    ax = figure.subplots()
    height = 0.8 / max(1, len(databases))
    for i, database in enumerate(databases):
        values = [results[database].get(page) for page in pages]
        ys = [n + i * height for n in range(len(pages))]
        bars = ax.barh(ys, [0 if v is None else v for v in values], height, label=database,
                       color=COLOURS[i % len(COLOURS)])
        _label_bars(ax, bars, values, 0)
    ax.axvline(target_ms, color="grey", linestyle="--", linewidth=1, label=f"target {target_ms:g} ms")
    ax.set_yticks([n + height * (len(databases) - 1) / 2 for n in range(len(pages))],
                  [page.removesuffix(" (ms)") for page in pages])
    ax.invert_yaxis()
    ax.set_xlabel("median ms per request")
    ax.set_title(title)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    ax.spines[["top", "right"]].set_visible(False)
    return _save(figure, path)


def _save(figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m scripts.bench_charts results/bench_load.json", file=sys.stderr)
        return 2
    source = Path(argv[0])
    report = json.loads(source.read_text())
    print(load_chart(report["table"], source.with_suffix(".png"), people=report.get("people", 10)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
