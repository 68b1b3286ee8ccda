"""Run every benchmark, each in a fresh process, and judge the targets of issue 6 (``make bench``).

Each benchmark's own table is passed through as it prints; at the end comes one table of targets
(met or missed) and one JSON line holding every benchmark's JSON line. The exit status is 1 only
when a benchmark could not run (crashed or ran out of time): a missed target is a result, not an
error.

    python -m bench.run_all                       # everything, under 10 minutes on 2 cores
    python -m bench.run_all --smoke               # seconds-long sanity run of every script
    python -m bench.run_all --only client_overhead --json-out /tmp/bench.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench._common import REPO, base_parser, emit, parse_result_line, print_table

BENCHMARKS = ("waiting_cost", "triggerer_scale", "batch_rate_limit", "client_overhead", "batch_scale")


def run_benchmark(name: str, smoke: bool, timeout: float) -> tuple[dict[str, Any] | None, float, str]:
    """Run ``python -m bench.<name>``, echoing its output; returns (its JSON, seconds, error)."""
    command = [sys.executable, "-m", f"bench.{name}", *(["--smoke"] if smoke else [])]
    print(f"\n## {' '.join(['python', *command[1:]])}\n", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True, bufsize=1)
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
        code = process.wait()
    finally:
        watchdog.cancel()
    seconds = time.perf_counter() - started
    if code != 0:
        reason = "timed out" if seconds >= timeout else f"exited {code}"
        return None, seconds, f"{name} {reason}"
    try:
        return parse_result_line("".join(lines), name), seconds, ""
    except ValueError as error:
        return None, seconds, str(error)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmarks to run")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a benchmark is killed")
    parser.add_argument("--json-out", type=Path, help="also write every result to this file")
    args = parser.parse_args(argv)
    names = [name for name in args.only.split(",") if name]
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {sorted(unknown)}; known: {', '.join(BENCHMARKS)}")

    started = time.perf_counter()
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    errors = []
    for name in names:
        result, seconds[name], error = run_benchmark(name, args.smoke, args.timeout)
        if result is None:
            errors.append(error)
        else:
            results[name] = result
    total = time.perf_counter() - started

    rows = []
    for name in names:
        targets = results.get(name, {}).get("targets") or {}
        if not targets:
            rows.append([name, seconds[name], "(no target judged)", "", ""])
        for judged in targets.values():
            met = "met" if judged["met"] else "**missed**"
            rows.append([name, seconds[name], judged["target"], judged["value"], met])
    print_table(
        f"Targets of issue 6 ({'smoke run: sizes too small to judge' if args.smoke else 'full run'})",
        ["benchmark", "wall s", "target", "measured", "verdict"],
        rows,
    )
    print(f"all benchmarks: {total:.0f} s" + (f"; failed: {'; '.join(errors)}" if errors else ""))
    payload = {
        "smoke": args.smoke,
        "results": results,
        "seconds": seconds,
        "errors": errors,
        "wall_seconds": total,
    }
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    emit("run_all", payload)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
