"""The signal registry: one YAML file, validated on load, used by ingestion, quality checks and dbt alike.

Every name that later reaches a URL, a file path or SQL is checked here against a strict pattern, so nothing
from the registry can inject into any of them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingestion.settings import resolve_registry

SOURCES = ("stocks", "trends", "github", "regulatory", "news")

# What a key must look like, per source, and what to tell a person whose key does not.
KEY_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "stocks": (re.compile(r"^\^?[A-Z0-9][A-Z0-9.=-]{0,11}$"), "an upper-case ticker such as NVDA or BRK-B"),
    "trends": (
        re.compile(r"^[A-Za-z0-9][A-Za-z0-9_(),.'!:-]{0,199}$"),
        "an English Wikipedia title with underscores for spaces, such as Large_language_model",
    ),
    "github": (
        re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}$"),
        "owner/name as on GitHub, such as ollama/ollama",
    ),
    "regulatory": (
        re.compile(r"^[a-z0-9][a-z0-9 '-]{1,79}$"),
        "a lower-case search phrase of letters, digits, spaces and hyphens, such as artificial intelligence",
    ),
    # Sent inside double quotes as an exact phrase, so it may hold no quote of its own.
    "news": (
        re.compile(r"^[A-Za-z0-9][A-Za-z0-9 '.-]{1,79}$"),
        "a search phrase of letters, digits, spaces, hyphens, dots and apostrophes, such as AI Act",
    ),
}
PREDICTION_ID = re.compile(r"^P\d{2}$")
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ,.'()-]{0,60}$")
SLUG = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
ROLE = re.compile(r"^[a-z][a-z_]{1,20}$")


class RegistryError(ValueError):
    """The registry file is invalid; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class Prediction:
    """One prediction of the article and the thresholds that turn its headline number into a verdict."""

    id: str
    slug: str
    title: str
    headline_metric: str
    supported_at: float
    not_supported_below: float
    kind: str = ""
    first_year: int | None = None  # the first window judged; the prediction year when None
    repo_group: str | None = None  # what the member repos are called together in the evidence
    baskets: tuple[tuple[str, str], ...] = ()  # basket_spread: (role, name), the first minus the second
    own_quality_checks: bool = False  # the evidence adds AI Pulse's own quality-check pass rate


def headline_kinds(project_dir: Path | None = None) -> tuple[str, ...]:
    """The headline kinds the dbt project builds (vars.headline_kinds in transform/dbt_project.yml), so a kind the
    registry names always has its model."""
    path = (project_dir or Path(__file__).resolve().parent.parent / "transform") / "dbt_project.yml"
    return tuple(yaml.safe_load(path.read_text(encoding="utf-8"))["vars"]["headline_kinds"])


@dataclass(frozen=True)
class Signal:
    """One thing that is measured: a ticker, a repository, an article or a search phrase."""

    source: str
    key: str
    predictions: tuple[str, ...]
    roles: dict[str, str] = field(default_factory=dict)

    def role_in(self, prediction_id: str) -> str:
        """The signal's part in a prediction's headline; plain members are `member`."""
        return self.roles.get(prediction_id, "member")


@dataclass(frozen=True)
class QualityThresholds:
    """Limits the quality suites enforce; fractions are of the previous value."""

    max_unexplained_price_move: float
    max_star_drop: float
    max_row_count_drop: float
    stale_after_days: dict[str, int]


@dataclass(frozen=True)
class Registry:
    """The validated registry."""

    path: Path
    start_date: dt.date
    baseline_year: int
    prediction_year: int
    min_coverage: float
    demonstration_above: float
    lookback_days: int
    user_agent: str
    predictions: tuple[Prediction, ...]
    signals: tuple[Signal, ...]
    quality: QualityThresholds

    def signals_for(self, source: str) -> list[Signal]:
        """The registered signals of one source, in registry order."""
        return [s for s in self.signals if s.source == source]

    def keys_for(self, source: str) -> list[str]:
        """The keys (tickers, repos, articles, phrases) of one source."""
        return [s.key for s in self.signals_for(source)]


def load_registry(path: str | Path | None = None) -> Registry:
    """Read and validate the registry; raise RegistryError naming the file, entry and fix on any problem."""
    path = Path(path) if path else resolve_registry()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: registry file not found; restore registry.yml or pass its path") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML ({exc}); fix the syntax at the line shown") from None
    return _Parser(path).parse(doc)


class _Parser:
    """Turns the YAML document into a Registry, collecting the first error with its location."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str, fix: str) -> RegistryError:
        return RegistryError(f"{self.path}: {where}: {problem}; {fix}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}", "see registry.yml's layout")
        return value

    def required(self, doc: dict[str, Any], key: str, where: str) -> Any:
        if key not in doc or doc[key] is None:
            raise self.fail(where, f"missing `{key}`", f"add `{key}:` to this entry")
        return doc[key]

    def number(self, doc: dict[str, Any], key: str, where: str) -> float:
        value = self.required(doc, key, where)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{where}.{key}", f"{value!r} is not a number", "write a plain number such as 20")
        return float(value)

    def parse(self, doc: Any) -> Registry:
        doc = self.mapping(doc, "top level")
        start = self.required(doc, "start_date", "top level")
        if not isinstance(start, dt.date):
            raise self.fail("start_date", f"{start!r} is not a date", "write it as YYYY-MM-DD, e.g. 2022-01-01")
        evaluation = self.mapping(self.required(doc, "evaluation", "top level"), "evaluation")
        baseline = int(self.number(evaluation, "baseline_year", "evaluation"))
        prediction_year = int(self.number(evaluation, "prediction_year", "evaluation"))
        if not start.year <= baseline < prediction_year:
            raise self.fail(
                "evaluation",
                f"baseline_year {baseline} and prediction_year {prediction_year} must satisfy "
                f"start_date's year ({start.year}) <= baseline_year < prediction_year",
                "move the years or the start date",
            )
        min_coverage = self.number(evaluation, "min_coverage", "evaluation")
        if not 0 < min_coverage <= 1:
            raise self.fail("evaluation.min_coverage", f"{min_coverage} is outside (0, 1]", "use e.g. 0.75")
        demonstration_above = self.number(evaluation, "demonstration_above", "evaluation")
        if not 0 <= demonstration_above < 1:
            raise self.fail("evaluation.demonstration_above", f"{demonstration_above} is outside [0, 1)",
                            "use e.g. 0.5: a verdict resting mostly on synthetic inputs is a demonstration")
        ingestion = self.mapping(self.required(doc, "ingestion", "top level"), "ingestion")
        lookback = int(self.number(ingestion, "lookback_days", "ingestion"))
        if not 0 <= lookback <= 60:
            raise self.fail("ingestion.lookback_days", f"{lookback} is outside 0..60", "use a few days, e.g. 7")
        user_agent = str(self.required(ingestion, "user_agent", "ingestion"))
        quality = self.quality(self.required(doc, "quality", "top level"))
        predictions = self.predictions(self.required(doc, "predictions", "top level"), baseline)
        signals = self.signals(self.required(doc, "signals", "top level"), {p.id for p in predictions})
        return Registry(
            path=self.path,
            start_date=start,
            baseline_year=baseline,
            prediction_year=prediction_year,
            min_coverage=min_coverage,
            demonstration_above=demonstration_above,
            lookback_days=lookback,
            user_agent=user_agent,
            predictions=tuple(predictions),
            signals=tuple(signals),
            quality=quality,
        )

    def quality(self, doc: Any) -> QualityThresholds:
        doc = self.mapping(doc, "quality")
        fractions = {}
        for key in ("max_unexplained_price_move", "max_star_drop", "max_row_count_drop"):
            value = self.number(doc, key, "quality")
            if not 0 < value <= 10:
                raise self.fail(f"quality.{key}", f"{value} is not a positive fraction", "use e.g. 0.5 for 50%")
            fractions[key] = value
        stale = self.mapping(self.required(doc, "stale_after_days", "quality"), "quality.stale_after_days")
        missing = sorted(set(SOURCES) - set(stale))
        if missing:
            raise self.fail("quality.stale_after_days", f"no limit for {missing}", "give every source a number of days")
        days = {source: int(self.number(stale, source, "quality.stale_after_days")) for source in SOURCES}
        return QualityThresholds(stale_after_days=days, **fractions)

    def predictions(self, entries: Any, baseline_year: int) -> list[Prediction]:
        if not isinstance(entries, list) or not entries:
            raise self.fail("predictions", "expected a non-empty list", "list one entry per prediction")
        kinds = headline_kinds()
        parsed: list[Prediction] = []
        for index, entry in enumerate(entries):
            where = f"predictions[{index}]"
            entry = self.mapping(entry, where)
            pid = str(self.required(entry, "id", where))
            where = f"prediction {pid}"
            if not PREDICTION_ID.match(pid):
                raise self.fail(where, f"id {pid!r} is not of the form P00", "use P followed by two digits")
            slug = str(self.required(entry, "slug", where))
            if not SLUG.match(slug):
                raise self.fail(where, f"slug {slug!r} is not snake_case", "use lower-case letters, digits and _")
            kind = str(self.required(entry, "kind", where))
            if kind not in kinds:
                raise self.fail(where, f"kind {kind!r} is not one of {', '.join(kinds)}",
                                "pick the kind that says how its headline is made (see registry.yml's comment)")
            first_year = entry.get("first_year")
            if first_year not in (None, "baseline"):
                raise self.fail(where, f"first_year {first_year!r} is not `baseline`",
                                "leave it out (the prediction year) or write `first_year: baseline`")
            prediction = Prediction(
                id=pid,
                slug=slug,
                title=str(self.required(entry, "title", where)),
                headline_metric=str(self.required(entry, "headline_metric", where)),
                supported_at=self.number(entry, "supported_at", where),
                not_supported_below=self.number(entry, "not_supported_below", where),
                kind=kind,
                first_year=baseline_year if first_year == "baseline" else None,
                repo_group=self.label(entry, "repo_group", where),
                baskets=self.baskets(entry, kind, where),
                own_quality_checks=bool(entry.get("own_quality_checks", False)),
            )
            if prediction.not_supported_below > prediction.supported_at:
                raise self.fail(
                    where,
                    f"not_supported_below ({prediction.not_supported_below}) is above supported_at "
                    f"({prediction.supported_at})",
                    "make not_supported_below <= supported_at",
                )
            if pid in {p.id for p in parsed}:
                raise self.fail(where, "the id appears twice", "give each prediction its own id")
            parsed.append(prediction)
        return parsed

    def label(self, entry: dict[str, Any], key: str, where: str) -> str | None:
        value = entry.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not LABEL.match(value):
            raise self.fail(where, f"{key} {value!r} is not a short name", "use words, digits and simple punctuation")
        return value

    def baskets(self, entry: dict[str, Any], kind: str, where: str) -> tuple[tuple[str, str], ...]:
        value = entry.get("baskets")
        if kind != "basket_spread":
            if value is not None:
                raise self.fail(where, "only a basket_spread prediction has baskets", "drop `baskets`")
            return ()
        if not isinstance(value, dict) or len(value) != 2:
            raise self.fail(where, "a basket_spread needs `baskets` with two roles", "write e.g. "
                            "`baskets: {usage: usage-priced basket, seat: seat-priced basket}`")
        for role, name in value.items():
            if not isinstance(role, str) or not ROLE.match(role) or not isinstance(name, str) or not LABEL.match(name):
                raise self.fail(where, f"basket {role!r}: {name!r} is not a role and a short name",
                                "use a lower-case role and a name of words")
        return tuple(value.items())

    def signals(self, doc: Any, prediction_ids: set[str]) -> list[Signal]:
        doc = self.mapping(doc, "signals")
        unknown = sorted(set(doc) - set(SOURCES))
        if unknown:
            raise self.fail("signals", f"unknown source(s) {unknown}", f"use only {', '.join(SOURCES)}")
        parsed: list[Signal] = []
        for source in SOURCES:
            entries = doc.get(source) or []
            if not isinstance(entries, list):
                raise self.fail(f"signals.{source}", "expected a list", "write one `- {key: ...}` line per signal")
            pattern, shape = KEY_PATTERNS[source]
            seen: set[str] = set()
            for index, entry in enumerate(entries):
                where = f"signals.{source}[{index}]"
                entry = self.mapping(entry, where)
                key = self.required(entry, "key", where)
                if not isinstance(key, str) or not pattern.match(key) or ".." in key:
                    raise self.fail(where, f"key {key!r} is not {shape}", "correct the name (no slashes, quotes, "
                                    "spaces or dots where they do not belong)")
                where = f"signals.{source} `{key}`"
                if key.lower() in seen:
                    raise self.fail(where, "the key appears twice", "keep one entry and merge its predictions")
                seen.add(key.lower())
                predictions = self.required(entry, "predictions", where)
                if not isinstance(predictions, list) or not predictions:
                    raise self.fail(where, "predictions must be a non-empty list", "write e.g. `predictions: [P04]`")
                for pid in predictions:
                    if pid not in prediction_ids:
                        raise self.fail(where, f"names prediction {pid!r}, which is not defined",
                                        "use an id from the predictions list")
                roles = entry.get("roles") or {}
                if not isinstance(roles, dict):
                    raise self.fail(where, "roles must be a mapping", "write e.g. `roles: {P04: leader}`")
                for pid, role in roles.items():
                    if pid not in predictions:
                        raise self.fail(where, f"has a role for {pid}, which it does not list in predictions",
                                        f"add {pid} to its predictions or drop the role")
                    if not isinstance(role, str) or not ROLE.match(role):
                        raise self.fail(where, f"role {role!r} is not a lower-case word", "use e.g. benchmark")
                extra = sorted(set(entry) - {"key", "predictions", "roles"})
                if extra:
                    raise self.fail(where, f"unknown field(s) {extra}", "use only key, predictions and roles")
                parsed.append(Signal(source, key, tuple(predictions), dict(roles)))
        return parsed
