"""The registry is validated on load: every bad entry gets an error naming the file, the entry and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingestion.registry import RegistryError, load_registry

PROJECT_REGISTRY = Path(__file__).resolve().parent.parent / "registry.yml"


def test_project_registry_loads_with_every_prediction_and_source() -> None:
    registry = load_registry(PROJECT_REGISTRY)
    assert [p.id for p in registry.predictions] == [f"P{i:02d}" for i in range(15)]
    assert {s.source for s in registry.signals} == {"stocks", "trends", "github", "regulatory", "news"}
    news = [s.key for s in registry.signals if s.source == "news"]
    assert {"AI Act", "AI regulation", "AI executive order", "digital identity"} <= set(news)
    served = {pid for s in registry.signals for pid in s.predictions}
    assert served == {p.id for p in registry.predictions}, "every prediction needs at least one signal"
    nvda = next(s for s in registry.signals if s.key == "NVDA")
    assert nvda.role_in("P04") == "leader"


def _write(tmp_path: Path, mutate) -> Path:
    doc = yaml.safe_load(PROJECT_REGISTRY.read_text(encoding="utf-8"))
    mutate(doc)
    path = tmp_path / "registry.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("source", "key", "entry_text"),
    [
        ("stocks", "NVDA'; DROP TABLE core.fct_stock_daily; --", "signals.stocks"),
        ("stocks", "nvda", "signals.stocks"),
        ("trends", "../../etc/passwd", "signals.trends"),
        ("trends", "ChatGPT/daily/2020010100", "signals.trends"),
        ("trends", "Chat GPT?x=1", "signals.trends"),
        ("github", "ollama/../../admin", "signals.github"),
        ("github", "https://evil.example/ollama", "signals.github"),
        ("regulatory", "ai&conditions[agencies][]=x", "signals.regulatory"),
        ("news", 'AI Act" OR "x', "signals.news"),
        ("news", "AI Act&tags=comment", "signals.news"),
    ],
)
def test_injection_attempts_in_signal_keys_are_rejected(tmp_path: Path, source: str, key: str,
                                                        entry_text: str) -> None:
    path = _write(tmp_path, lambda doc: doc["signals"][source].append({"key": key, "predictions": ["P04"]}))
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    message = str(error.value)
    assert str(path) in message and entry_text in message and repr(key) in message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["signals"]["stocks"].append({"key": "XYZ", "predictions": ["P99"]}),
         "names prediction 'P99', which is not defined"),
        (lambda d: d["signals"]["stocks"].append({"key": "NVDA", "predictions": ["P04"]}),
         "signals.stocks `NVDA`: the key appears twice"),
        (lambda d: d["signals"]["stocks"].append({"key": "XYZ", "predictions": ["P04"], "roles": {"P05": "leader"}}),
         "has a role for P05, which it does not list in predictions"),
        (lambda d: d["signals"]["stocks"].append({"key": "XYZ"}), "missing `predictions`"),
        (lambda d: d["signals"].update({"weather": []}), "unknown source(s) ['weather']"),
        (lambda d: d["predictions"][4].update({"supported_at": "lots"}), "'lots' is not a number"),
        (lambda d: d["predictions"][4].update({"not_supported_below": 99}), "is above supported_at"),
        (lambda d: d["evaluation"].update({"baseline_year": 2024}), "baseline_year 2024 and prediction_year 2024"),
        (lambda d: d.update({"start_date": "soon"}), "start_date: 'soon' is not a date"),
        (lambda d: d["evaluation"].update({"min_coverage": 2}), "min_coverage: 2.0 is outside (0, 1]"),
    ],
)
def test_invalid_entries_name_the_problem_and_the_fix(tmp_path: Path, mutate, expected: str) -> None:
    path = _write(tmp_path, mutate)
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    assert expected in str(error.value)
    assert str(path) in str(error.value)
    assert ";" in str(error.value), "the message should go on to say how to fix it"


def test_broken_yaml_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("signals: [unclosed\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(broken)
    with pytest.raises(RegistryError, match="registry file not found"):
        load_registry(tmp_path / "absent.yml")


def test_apostrophes_in_titles_and_phrases_are_allowed_and_stay_data(tmp_path: Path) -> None:
    """Real names have them (Moore's_law, a phrase in quotes): they load, are percent-encoded in a URL and reach
    the warehouse as the value itself, never as SQL."""
    import datetime as dt

    import duckdb

    from ingestion.common import Window
    from ingestion.registry_tables import registry_source
    from ingestion.trends import pageviews_url
    from tests.conftest import load_source

    names = {"trends": "Moore's_law", "regulatory": "o'reilly act", "news": "Biden's executive order"}
    path = _write(tmp_path, lambda doc: [doc["signals"][source].append({"key": key, "predictions": ["P04"]})
                                        for source, key in names.items()])
    registry = load_registry(path)
    assert {s.key for s in registry.signals} >= set(names.values())
    assert "/Moore%27s_law/" in pageviews_url("Moore's_law", Window(dt.date(2024, 1, 1), dt.date(2024, 1, 31)))
    warehouse = load_source(registry_source(registry), tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = {row[0] for row in con.execute("select signal from raw_registry.signals").fetchall()}
    assert set(names.values()) <= stored
