"""scripts/bench_charts.py: the benchmarks' PNG charts, from made-up results of the shapes the benches write."""
import json
import struct
import subprocess
import sys
from argparse import Namespace

from bot import PROJECT_ROOT
from scripts.bench_charts import dashboard_chart, load_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    """Width and height from a PNG's header, after checking its signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    assert len(data) > 10_000  # bars, labels and titles, not an empty canvas
    return struct.unpack(">II", data[16:24])


def made_up_load_runs() -> dict:
    """bench_load's per-run results for three targets; the 2-server throughput phase was not run."""
    def run(p50, p95, p99, throughput):
        return {"p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "throughput": throughput, "errors": 0, "turns": 170,
                "our_cores": 0.9, "other_cores": 0.01}

    return {"moodbot": {"latency": [run(45, 117, 282, 3.1)], "throughput": [run(200, 400, 600, 24.0)]},
            "1 server": {"latency": [run(65, 213, 461, 3.0)], "throughput": [run(600, 900, 1200, 16.0)]},
            "2 servers": {"latency": [run(60, 148, 295, 3.0)], "throughput": []}}


def test_the_load_bench_summary_draws_a_png_chart(tmp_path):
    from scripts.bench_load import summarise

    args = Namespace(runs=1, people=10, duration=60, throughput_people=16, throughput_duration=30,
                     socketio_share=0.3)
    report = summarise(made_up_load_runs(), args, (2, 5), [], [], 500, 600)
    assert report["table"]["2 servers"]["throughput"]["throughput"] is None
    path = load_chart(report["table"], tmp_path / "results" / "bench_load.png", people=10)
    width, height = png_size(path)
    assert width > 600 and height > 300


def test_the_load_chart_is_redrawn_from_a_saved_run(tmp_path):
    table = {"moodbot": {"latency": {"p50_ms": 45.0, "p95_ms": 117.0, "p99_ms": 282.0},
                         "throughput": {"throughput": 24.0}}}
    (tmp_path / "bench_load.json").write_text(json.dumps({"table": table, "people": 10}))
    subprocess.run([sys.executable, "-m", "scripts.bench_charts", str(tmp_path / "bench_load.json")],
                   cwd=PROJECT_ROOT, check=True, capture_output=True)
    png_size(tmp_path / "bench_load.png")


def test_the_dashboard_bench_draws_a_png_chart(tmp_path):
    results = {"sqlite": {"initial summary (s)": 7.2, "list page 1 (ms)": 44.0, "search 'grief' (ms)": 25.0},
               "postgresql": {"initial summary (s)": 11.3, "list page 1 (ms)": 70.0, "search 'grief' (ms)": 78.0}}
    width, height = png_size(dashboard_chart(results, tmp_path / "bench_dashboard.png"))
    assert width > 600 and height > 200
