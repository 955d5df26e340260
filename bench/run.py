"""`make bench`: what a run of AI Pulse costs on this machine, and how it grows.

Five figures, each from a real `ai-pulse run` in its own process (wall time and peak memory), in one go:

  (a) a cold full replay of the bundled snapshot into an empty warehouse;
  (b) a no-op nightly re-run (same snapshot, nothing new), and a nightly run with one new day;
  (c) a synthetic scale snapshot (default 500 tickers x 10 years of days, 1,000 repos x 3 years of daily star
      counts), generated here in the contract's snapshot format, end to end;
  (d) the floor: the same response files read with DuckDB's `read_json` and the core facts built with plain SQL,
      no orchestration; and the ratio (c) / (d);
  (e) the requests the one-new-day run sends (what a live nightly run would send) versus the minimum: one per
      signal and dataset.

For (a) and (c) it also prints where the run's time went, step by step, from Dagster's own event log, and for (a)
and (b) how many dbt models each run rebuilt and how many it left unchanged (the work done, which a busy machine
does not blur).
Results go to bench/results.json and a table on stdout. Nothing here asserts a time; tests never do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from ingestion.registry import load_registry  # noqa: E402
from ingestion.settings import BUNDLED_SNAPSHOT  # noqa: E402
from ingestion.snapshot import load_manifest  # noqa: E402
from ingestion.snapshots.builder.factory import Bar, SnapshotBuilder, extend_bundled, trading_days  # noqa: E402
from orchestration.cli.doctor import requests_needed  # noqa: E402

AI_PULSE = Path(sys.executable).with_name("ai-pulse")
RESULTS = PROJECT_ROOT / "bench" / "results.json"
# Runs the command given as arguments and prints its wall time and the peak resident memory of the largest
# process it started (ai-pulse itself, which runs dbt in-process too), as JSON.
MEASURE = """
import json, resource, subprocess, sys, time
started = time.monotonic()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
seconds = time.monotonic() - started
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "returncode": code.returncode,
                  "stderr": code.stderr[-2000:]}))
"""


# The step durations of the newest run in a Dagster instance (DAGSTER_HOME from the environment), as JSON: where
# a measured run spent its time, from Dagster's own event log.
STEP_TIMES = """
import json
from dagster import DagsterEventType, DagsterInstance
instance = DagsterInstance.get()
run = instance.get_runs(limit=1)[0]
started, seconds = {}, {}
for record in instance.all_logs(run.run_id):
    event = record.dagster_event
    if event is None:
        continue
    if event.event_type == DagsterEventType.STEP_START:
        started[event.step_key] = record.timestamp
    elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
        seconds[event.step_key] = record.timestamp - started[event.step_key]
print(json.dumps(seconds))
"""

# How many dbt models the newest run rebuilt and how many it left unchanged (orchestration/defs/lane_plan.py): the
# work a nightly run does, whatever the machine's load.
MODELS_BUILT = """
import json
from dagster import DagsterEventType, DagsterInstance
instance = DagsterInstance.get()
run = instance.get_runs(limit=1)[0]
counts = {"rebuilt": 0, "unchanged": 0}
for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
    metadata = record.dagster_event.event_specific_data.materialization.metadata
    if "model_version" in metadata:
        counts["unchanged" if metadata["unchanged"].value else "rebuilt"] += 1
print(json.dumps(counts))
"""


def models_built(env: dict[str, str]) -> dict[str, int]:
    """dbt models rebuilt and left unchanged by the last run in the instance `env` points at."""
    completed = subprocess.run([sys.executable, "-c", MODELS_BUILT], env=env, cwd=PROJECT_ROOT, capture_output=True,
                               text=True, check=True)
    return json.loads(completed.stdout)


def step_seconds(env: dict[str, str]) -> dict[str, float]:
    """Seconds per step of the last run in the instance `env` points at, grouped as the README describes them:
    the loads, the quality checks, each dbt lane, the report."""
    completed = subprocess.run([sys.executable, "-c", STEP_TIMES], env=env, cwd=PROJECT_ROOT, capture_output=True,
                               text=True, check=True)
    groups: dict[str, float] = {}
    for step, seconds in json.loads(completed.stdout).items():
        group = ("loads (dlt)" if step.startswith("load_") else "quality checks (GX)" if "_gx_" in step
                 else step if step.startswith("dbt_") else "report")
        groups[group] = round(groups.get(group, 0.0) + seconds, 1)
    return dict(sorted(groups.items(), key=lambda item: -item[1]))


def measure(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One `ai-pulse` command in a fresh process; fails loudly if the command does."""
    completed = subprocess.run([sys.executable, "-c", MEASURE, str(AI_PULSE), *args], env=env, cwd=PROJECT_ROOT,
                               capture_output=True, text=True, check=True)
    result = json.loads(completed.stdout)
    if result["returncode"] != 0:
        raise SystemExit(f"bench: `ai-pulse {' '.join(args)}` failed ({result['returncode']}):\n{result['stderr']}")
    return result


def environment(root: Path, registry: Path | None = None) -> dict[str, str]:
    """A private warehouse and Dagster instance under `root`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_PULSE_", "DAGSTER_"))}
    env.update({"AI_PULSE_WAREHOUSE": str(root / "warehouse" / "ai_pulse.duckdb"),
                "DAGSTER_HOME": str(root / "dagster_home")})
    if registry:
        env["AI_PULSE_REGISTRY"] = str(registry)
    return env


def ticker_name(n: int) -> str:
    """A valid, made-up ticker per number: SA, SB, … SZ, SAA, …"""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return f"S{letters}"


def scale_snapshot(root: Path, tickers: int, years: int, repos: int, repo_years: int) -> tuple[Path, Path]:
    """A synthetic snapshot (labelled so in its manifest) and a registry naming exactly its signals."""
    as_of = dt.date(2025, 12, 31)
    snap = SnapshotBuilder(root / "snapshot", as_of)
    days = trading_days(as_of.replace(year=as_of.year - years), as_of)
    for n in range(tickers):
        snap.stock(ticker_name(n), [Bar(day, round(20 + n % 50 + i * 0.01, 4)) for i, day in enumerate(days)],
                   provenance="synthetic")
    first = as_of.replace(year=as_of.year - repo_years)
    star_days = [first + dt.timedelta(days=i) for i in range((as_of - first).days)]
    for n in range(repos):
        stars = {day: 100 + n + i for i, day in enumerate(star_days)}
        snap.repo(f"scale-org/repo-{n:04d}", 100 + n + len(star_days), history=stars, provenance="synthetic")
    for entry in snap.series:
        entry["provenance"] = "synthetic"
    snapshot = snap.write(f"SYNTHETIC benchmark data: {tickers} made-up tickers x {years} years, {repos} made-up "
                          f"repos x {repo_years} years of daily star counts. Not real numbers.")

    doc = yaml.safe_load((PROJECT_ROOT / "registry.yml").read_text(encoding="utf-8"))
    doc["start_date"] = as_of.replace(year=as_of.year - years)
    doc["signals"] = {"stocks": [{"key": ticker_name(n), "predictions": ["P04"]} for n in range(tickers)],
                      "github": [{"key": f"scale-org/repo-{n:04d}", "predictions": ["P03"]} for n in range(repos)]}
    registry = root / "registry.yml"
    registry.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return snapshot, registry


FLOOR_SQL = """
create table prices as
with charts as (
    select unnest(response.json.chart.result) as r
    from read_json('{responses}/stocks/*.json', maximum_object_size = 268435456)
), days as (
    select r.meta.symbol as ticker, r.meta.gmtoffset as gmtoffset,
           unnest(r.timestamp) as ts,
           unnest(r.indicators.quote[1].open) as open, unnest(r.indicators.quote[1].high) as high,
           unnest(r.indicators.quote[1].low) as low, unnest(r.indicators.quote[1].close) as close,
           unnest(r.indicators.quote[1].volume) as volume, unnest(r.indicators.adjclose[1].adjclose) as adj_close
    from charts
)
select ticker, cast(to_timestamp(ts + gmtoffset) as date) as trade_date, open, high, low, close, adj_close, volume
from days where close is not null;

create table fct_stock_daily as
select * from prices qualify row_number() over (partition by ticker, trade_date) = 1;

create table weeks as
select lower(regexp_extract(request.url, 'repos/([^/]+/[^/]+)/stargazers', 1)) as repo,
       unnest(response.json) as w
from read_json('{responses}/github_history/*.json', maximum_object_size = 268435456);

create table added as
select repo, cast(to_timestamp(w.week) as date) + cast(d.i - 1 as integer) as starred_date, w.days[d.i] as stars_added
from weeks cross join range(1, 8) as d(i);

create table snapshots as
select lower(response.json.full_name) as repo, response.json.stargazers_count as stars
from read_json('{responses}/github/*.json', maximum_object_size = 268435456);

create table fct_repo_stars as
select added.repo, starred_date as observed_date,
       (snapshots.stars - coalesce(sum(stars_added) over (partition by added.repo order by starred_date desc
            rows between unbounded preceding and 1 preceding), 0))::bigint as stars
from added join snapshots using (repo);
"""


def floor(snapshot: Path) -> dict[str, Any]:
    """The same files, the same facts, plain DuckDB: the least any pipeline could spend."""
    with tempfile.TemporaryDirectory() as scratch:
        started = time.monotonic()
        with duckdb.connect(str(Path(scratch) / "floor.duckdb")) as con:
            con.execute(FLOOR_SQL.format(responses=snapshot / "responses"))
            rows = {t: con.execute(f"select count(*) from {t}").fetchone()[0]  # noqa: S608 - constants
                    for t in ("fct_stock_daily", "fct_repo_stars")}
        return {"seconds": time.monotonic() - started, "rows": rows}


def minimum_requests(today: dt.date) -> int:
    """The fewest requests a nightly run on `today` can send: one window per signal and dataset that can have
    something new that night (orchestration/cli/doctor.py counts them; a GitHub repo has two, its repository object and
    its newest star-history page)."""
    return sum(requests_needed(load_registry(), first_run=False, today=today).values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickers", type=int, default=500, help="synthetic tickers in the scale snapshot")
    parser.add_argument("--years", type=int, default=10, help="years of trading days per ticker")
    parser.add_argument("--repos", type=int, default=1000, help="synthetic repos in the scale snapshot")
    parser.add_argument("--repo-years", type=int, default=3, help="years of daily star counts per repo")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ai_pulse_bench_") as scratch:
        work = Path(scratch)
        print("bench: (a) cold full replay of the bundled snapshot …", file=sys.stderr)
        nightly = environment(work / "nightly")
        cold = measure(["-q", "run"], nightly)
        cold_steps = step_seconds(nightly)
        models = {"cold": models_built(nightly)}
        print("bench: (b) no-op re-run, then one new day …", file=sys.stderr)
        noop = measure(["-q", "run"], nightly)
        noop_steps = step_seconds(nightly)
        models["noop"] = models_built(nightly)
        next_day = load_manifest(BUNDLED_SNAPSHOT).as_of + dt.timedelta(days=1)
        extend_bundled(work / "next_day", next_day)
        one_day = measure(["-q", "run", "--snapshot", str(work / "next_day"), "--record", str(work / "requests")],
                          nightly)
        live_requests = sum(1 for _ in (work / "requests" / "responses").rglob("*.json"))
        one_day_steps = step_seconds(nightly)
        models["one_new_day"] = models_built(nightly)

        print(f"bench: (c) scale snapshot: {args.tickers} tickers x {args.years} y, {args.repos} repos x "
              f"{args.repo_years} y …", file=sys.stderr)
        snapshot, registry = scale_snapshot(work / "scale", args.tickers, args.years, args.repos, args.repo_years)
        scale_env = environment(work / "scale", registry)
        scale = measure(["-q", "run", "--snapshot", str(snapshot)], scale_env)
        scale_steps = step_seconds(scale_env)
        print("bench: (d) the floor: DuckDB read_json and the core SQL alone …", file=sys.stderr)
        floor_run = floor(snapshot)

        results = {
            "cold_full_s": round(cold["seconds"], 1), "cold_full_peak_mb": round(cold["peak_mb"]),
            "noop_rerun_s": round(noop["seconds"], 1), "one_new_day_s": round(one_day["seconds"], 1),
            "scale_pipeline_s": round(scale["seconds"], 1), "scale_peak_mb": round(scale["peak_mb"]),
            "scale_floor_s": round(floor_run["seconds"], 2),
            "scale_ratio": round(scale["seconds"] / floor_run["seconds"], 1),
            "scale_rows": floor_run["rows"],
            "steps_s": {"cold": cold_steps, "noop": noop_steps, "one_new_day": one_day_steps, "scale": scale_steps},
            "dbt_models": models,
            "live_requests": live_requests, "min_requests": minimum_requests(next_day),
            "scale": {"tickers": args.tickers, "years": args.years, "repos": args.repos,
                      "repo_years": args.repo_years, "data": "synthetic"},
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform(), "processor": platform.processor() or platform.machine()},
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nwritten to {args.out}")
    return 0


def table(r: dict[str, Any]) -> str:
    rows = [
        ("(a) cold full replay (bundled snapshot)", f"{r['cold_full_s']} s", f"peak {r['cold_full_peak_mb']} MB"),
        ("(b) no-op nightly re-run", f"{r['noop_rerun_s']} s", f"{r['noop_rerun_s'] / r['cold_full_s']:.2f} x cold"),
        ("(b) nightly run with one new day", f"{r['one_new_day_s']} s",
         f"{r['one_new_day_s'] / r['cold_full_s']:.2f} x cold"),
        ("(c) scale snapshot, end to end", f"{r['scale_pipeline_s']} s", f"peak {r['scale_peak_mb']} MB"),
        ("(d) floor: read_json + core SQL", f"{r['scale_floor_s']} s", f"(c)/(d) = {r['scale_ratio']}"),
        ("(e) requests of a nightly run", str(r["live_requests"]),
         f"minimum {r['min_requests']} ({r['live_requests'] / r['min_requests']:.2f} x)"),
    ]
    width = max(len(row[0]) for row in rows)
    lines = [f"{a.ljust(width)}  {b:>9}  {c}" for a, b, c in rows]
    for run, counts in r.get("dbt_models", {}).items():
        lines.append(f"dbt models of the {run} run: {counts['rebuilt']} rebuilt, {counts['unchanged']} unchanged")
    for run, steps in r["steps_s"].items():
        lines.append(f"steps of the {run} run: " + ", ".join(f"{name} {seconds} s" for name, seconds in steps.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
