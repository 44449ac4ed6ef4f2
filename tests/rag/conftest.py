"""Fixtures for rag tests: a small docs folder and cases folder of our own, and clean caches.

The cards here are written for the tests (short, with known sections), so the assertions do not
depend on the real model cards, which other people edit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

SEIR_CARD = """# SEIR model (`seir`)

## Overview

A compartmental epidemic model: susceptible, exposed, infectious and recovered people in one
well-mixed population. The basic reproduction number sets how fast the infection spreads.

## Parameters

### r0

The basic reproduction number `r0`: secondary infections caused by one infectious person in a
fully susceptible population. Bounds > 0 and <= 20, default 2.5 (Anderson and May 1991).

### incubation_days

Mean days from infection to becoming infectious; 0 makes the model SIR. Default 5.2 days.

## Interventions

`contact_reduction` scales transmission by one minus its effectiveness while it is active.
`vaccination` moves susceptible people to protected at a daily rate of the population.

## Metrics

`peak_infected` is the number of people infectious on the day of the peak; `attack_rate` is the
share of the population ever infected by the end of the run.

## Validity limits

No households, schools or age groups; no waning immunity; no births or deaths; one city only.
"""

DELIVERY_CARD = """# Last-mile delivery model (`delivery`)

## Overview

A discrete-event model of couriers carrying restaurant orders to customers in a square city.
Orders arrive at random; each waits for a free courier.

## Parameters

`orders_per_hour` is the arrival rate of orders; `couriers` is the number of couriers on shift;
`sla_minutes` is the promised delivery time, default 45 minutes.

## Metrics

`late_rate` is the share of orders delivered after `sla_minutes`; `p90_minutes` is the 90th
percentile of the time from order to delivery; `utilization` is the share of courier time busy.

## Validity limits

No traffic, no weather, no cancellations; couriers never take breaks.
"""

METHODS = """# Methods

## Uncertainty

`ci` is the central 95% range of the replicate values of each metric, not the uncertainty of the
mean.

## Compare and common random numbers

All scenarios of a comparison run with the same seed, so their differences are effects, not noise;
each difference carries a 95% interval of the mean paired difference.
"""

CASES = """
- id: seir-school-1
  question: If we close schools for 4 weeks from day 30, how much lower is the peak?
  kind: compare
  model: abm
  scenarios:
    - label: baseline
    - label: schools closed
      interventions: [{type: school_closure, start_day: 30, duration_days: 28}]
- id: seir-r0-attack
  question: What R0 gives an attack rate of 50%?
  kind: calibrate
  model: seir
  calibrate: {param: r0, metric: attack_rate, target: 0.5, relation: eq}
- id: delivery-couriers
  question: How many couriers do we need to keep late deliveries under 5%?
  kind: calibrate
  model: delivery
  calibrate: {param: couriers, metric: late_rate, target: 0.05, relation: le}
- id: refuse-weather
  question: Will it rain tomorrow?
  kind: refuse
"""


def reset_caches() -> None:
    import rag.embeddings
    import rag.examples
    import rag.index
    import rag.retrieval

    rag.index._loaded.clear()
    rag.examples._cache.clear()
    rag.retrieval._runs_cache.clear()
    rag.retrieval._stores.clear()
    rag.retrieval._server_down.clear()
    rag.embeddings._default = None


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "docs"
    (root / "models").mkdir(parents=True)
    (root / "models" / "seir.md").write_text(SEIR_CARD)
    (root / "models" / "delivery.md").write_text(DELIVERY_CARD)
    (root / "methods.md").write_text(METHODS)
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "sample.yaml").write_text(CASES)
    monkeypatch.setenv("SIMQA_DOCS_DIR", str(root))
    monkeypatch.setenv("SIMQA_CASES_DIR", str(cases))
    for var in ("SIMQA_EMBEDDINGS_URL", "SIMQA_EMBEDDINGS_MODEL"):
        monkeypatch.delenv(var, raising=False)
    reset_caches()
    yield root
    reset_caches()
