"""One small snapshot and registry for every prediction, with round numbers so each indicator and verdict can be
worked out by hand (the expected values are in tests/test_indicators.py, with the arithmetic beside them).

Evaluation: baseline 2023, prediction 2024, min_coverage 0.75, as_of 2024-12-31. Prices: every month of 2023 closes
at the start level, 2024 climbs in equal monthly steps to the end level (one bar on the 15th at 98% of the month's
close, one on the 28th at the close). Pageviews: a constant value per day, per year or month as given. Stars: counts on
2023-12-31 and 2024-07-01 and GitHub's repository object's count today (2024-12-31), recorded as GitHub's star
history (each rise on the day it was counted), so the counts rebuilt from it are exactly these.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ingestion.snapshots.bodies import fr_document
from ingestion.snapshots.builder.factory import Bar, SnapshotBuilder

D = dt.date
AS_OF = D(2024, 12, 31)
START = D(2022, 1, 1)
SPLIT_DAY = D(2024, 6, 10)
MISSING_DAY = D(2023, 3, 5)


def ramp(start: float, end: float) -> list[Bar]:
    """Closes flat at `start` through 2023, then `start + (end - start) * m / 12` at the end of month m of 2024."""
    closes = {(2023, m): start for m in range(1, 13)}
    closes |= {(2024, m): start + (end - start) * m / 12 for m in range(1, 13)}
    bars = []
    for (year, month), close in sorted(closes.items()):
        bars += [Bar(D(year, month, 15), round(close * 0.98, 6)), Bar(D(year, month, 28), round(close, 6))]
    return bars


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def daily(by_year: dict[int, float], by_month: dict[tuple[int, int], float] | None = None,
          first_day: dt.date = START, skip: tuple[dt.date, ...] = ()) -> dict[dt.date, int]:
    """Views per day: the year's value, overridden for (year, month); nothing before `first_day` or on `skip`."""
    views = {}
    for day in days(first_day, AS_OF):
        value = (by_month or {}).get((day.year, day.month), by_year.get(day.year))
        if value is not None and day not in skip:
            views[day] = int(value)
    return views


def documents(prefix: str, per_month: dict[int, int], extra: dict[tuple[int, int], int] | None = None) -> list[dict]:
    """`per_month[year]` documents every month of the year (on the 10th, 12th, …), plus `extra[(year, month)]`."""
    docs = []
    for year, count in per_month.items():
        for month in range(1, 13):
            for n in range(count + (extra or {}).get((year, month), 0)):
                docs.append(fr_document(f"{year}-{prefix}{month:02d}{n}", D(year, month, 10 + 2 * n)))
    return docs


STOCKS = {  # ticker: (close at the end of 2023, close at the end of 2024)
    "NVDA": (50.0, 135.0), "QQQ": (400.0, 500.0), "AMD": (140.0, 120.0), "TSM": (100.0, 180.0),
    "GOOGL": (100.0, 130.0), "SNOW": (100.0, 150.0), "CRM": (200.0, 220.0), "MSFT": (300.0, 270.0),
}
REPOS = {  # repo: (stars on 2023-12-31, on 2024-07-01, today 2024-12-31); None = no star history (404)
    "langchain-ai/langchain": (50000, 55000, 60000),
    "state-spaces/mamba": (1000, 2000, 3000),
    "huggingface/transformers": (100000, 104000, 108000),
    "milvus-io/milvus": (10000, 11000, 13000),
    "qdrant/qdrant": (5000, 5200, 5500),
    "chroma-core/chroma": (1000, 1200, 1500),
    "weaviate/weaviate": (None, None, 9000),
    "microsoft/autogen": (2000, 3000, 5000),
    "crewAIInc/crewAI": (1000, 1500, 2000),
    "great-expectations/great_expectations": (100, 105, 110),
    "ollama/ollama": (1000, 1800, 2500),
}
PAGEVIEWS = {
    "Artificial_intelligence": daily({2022: 100, 2023: 180, 2024: 200}),
    "Large_language_model": daily({2022: 50, 2023: 120, 2024: 150}, skip=(MISSING_DAY,)),
    "Generative_artificial_intelligence": daily({2023: 200, 2024: 230}, first_day=D(2023, 1, 1)),
    "Apple_Vision_Pro": daily({2024: 1000}, {(2024, 2): 2000} | {(2024, m): 300 for m in (10, 11, 12)},
                              first_day=D(2024, 1, 1)),
    "Humane_Ai_Pin": daily({2024: 500}, {(2024, 4): 1500} | {(2024, m): 450 for m in (10, 11, 12)},
                           first_day=D(2024, 1, 1)),
    "Gaussian_splatting": daily({2023: 400, 2024: 600}, first_day=D(2023, 8, 15)),
    "ChatGPT": daily({2023: 300, 2024: 450}, {(2024, 5): 900}, first_day=D(2023, 1, 1)),
    "Google_Search": daily({2023: 600, 2024: 500}, {(2024, 5): 1000}, first_day=D(2023, 1, 1)),
    "Data_quality": daily({2023: 100, 2024: 95}, first_day=D(2023, 1, 1)),
}


def indicator_snapshot(root: Path) -> Path:
    """Every series above, GPT_Store as Wikimedia's 404 and two Federal Register terms; NVDA splits 10:1."""
    snap = SnapshotBuilder(root, as_of=AS_OF)
    for ticker, (start, end) in STOCKS.items():
        snap.stock(ticker, ramp(start, end), splits=[(SPLIT_DAY, 10, 1)] if ticker == "NVDA" else [],
                   provenance="synthetic" if ticker == "QQQ" else "real")
    for article, views in PAGEVIEWS.items():
        snap.pageviews(article, views)
    snap.missing_article("GPT_Store")
    for repo, (start, middle, today) in REPOS.items():
        history = None if start is None else {D(2023, 12, 31): start, D(2024, 7, 1): middle}
        snap.repo(repo, today, history, provenance="partly_synthetic" if repo == "milvus-io/milvus" else "real")
    snap.federal_register("artificial intelligence", documents("A", {2023: 2, 2024: 3}))
    snap.federal_register("digital identity", documents("D", {2023: 1, 2024: 1}, extra={(2024, 12): 1}),
                          provenance="synthetic")
    return snap.write()


def signal(key: str, *predictions: str, **roles: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": key, "predictions": list(predictions)}
    if roles:
        entry["roles"] = roles
    return entry


SIGNALS: dict[str, list[dict[str, Any]]] = {
    "stocks": [
        signal("NVDA", "P04", P04="leader"), signal("QQQ", "P04", "P09", P04="benchmark", P09="benchmark"),
        signal("AMD", "P04"), signal("GOOGL", "P09"), signal("SNOW", "P13", P13="usage"),
        signal("CRM", "P13", P13="seat"), signal("MSFT", "P01"),
    ],
    "trends": [
        signal("Artificial_intelligence", "P00"), signal("Large_language_model", "P00"),
        signal("Generative_artificial_intelligence", "P01"), signal("Apple_Vision_Pro", "P05"),
        signal("Gaussian_splatting", "P07"), signal("ChatGPT", "P09", "P12", P09="challenger", P12="proxy"),
        signal("Google_Search", "P09", P09="incumbent"), signal("Data_quality", "P10"), signal("GPT_Store", "P12"),
    ],
    "github": [
        signal("langchain-ai/langchain", "P01"), signal("state-spaces/mamba", "P02", P02="challenger"),
        signal("huggingface/transformers", "P02", P02="incumbent"), signal("milvus-io/milvus", "P03"),
        signal("qdrant/qdrant", "P03"), signal("chroma-core/chroma", "P03"), signal("weaviate/weaviate", "P03"),
        signal("microsoft/autogen", "P06"), signal("crewAIInc/crewAI", "P06"),
        signal("great-expectations/great_expectations", "P10"), signal("ollama/ollama", "P11"),
    ],
    "regulatory": [signal("artificial intelligence", "P08"), signal("digital identity", "P14")],
}
# The second run registers one more ticker and one more article; their recordings are in the snapshot already.
MORE_SIGNALS = {
    "stocks": [*SIGNALS["stocks"], signal("TSM", "P04")],
    "trends": [*SIGNALS["trends"], signal("Humane_Ai_Pin", "P05")],
    "github": SIGNALS["github"],
    "regulatory": SIGNALS["regulatory"],
}
