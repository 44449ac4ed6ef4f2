"""What a model's run function returns: per-replicate metrics and series, as numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ModelOutput:
    """Raw output of one model run over `replicates` replicates.

    metrics: scalar metric name -> array of shape (replicates,)
    series: series name -> array of shape (replicates, steps); names say what they count
      (`new_infections`, `n_infectious`, `cum_infections`)
    breakdowns: e.g. "infections_by_setting" -> {"household": array (replicates,), ...}
    notes: facts the answer should mention (e.g. "3 of 20 replicates died out")
    """

    metrics: dict[str, np.ndarray]
    series: dict[str, np.ndarray] = field(default_factory=dict)
    breakdowns: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def replicates(self) -> int:
        first = next(iter(self.metrics.values()))
        return int(np.asarray(first).shape[0])
