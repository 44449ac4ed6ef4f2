"""What a model's run function returns: per-replicate metrics and series, as numpy arrays."""

from __future__ import annotations

from collections.abc import Sequence
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
    replicate_facts: per-replicate values of shape (replicates,) that a model keeps only to write
      notes once its replicates are joined (`ModelSpec.finalize`), e.g. the orders still waiting
      at the end of a delivery shift; never reported as metrics
    run_metrics, run_intervals: values that describe the replicates together, not one by one (the
      probability of a major outbreak and its 95% interval); written once the replicates are joined
    """

    metrics: dict[str, np.ndarray]
    series: dict[str, np.ndarray] = field(default_factory=dict)
    breakdowns: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    replicate_facts: dict[str, np.ndarray] = field(default_factory=dict)
    run_metrics: dict[str, float] = field(default_factory=dict)
    run_intervals: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def replicates(self) -> int:
        first = next(iter(self.metrics.values()))
        return int(np.asarray(first).shape[0])

    @classmethod
    def concat(cls, pieces: Sequence[ModelOutput]) -> ModelOutput:
        """Join the outputs of consecutive replicate ranges of one run, in order, along the replicate axis.

        Notes are kept once each, in the order they first appear: a piece's notes may only say
        what is true of the whole run (notes about all replicates come from `ModelSpec.finalize`).
        A piece without series (dropped on a worker when only metrics are needed) joins with others
        without series only. Series of different lengths (replicates that ran until their epidemic was
        over) are padded to the longest (`stack_series`).
        """
        if not pieces:
            raise ValueError("ModelOutput.concat needs at least one piece")
        first = pieces[0]
        for piece in pieces[1:]:
            layout = _layout(piece)
            if layout != _layout(first):
                raise ValueError(f"pieces of one run differ in their outputs: {_layout(first)} against {layout}")

        def join(arrays: list[np.ndarray]) -> np.ndarray:
            return np.concatenate([np.asarray(a) for a in arrays], axis=0)

        notes: dict[str, None] = {}
        for piece in pieces:
            notes.update(dict.fromkeys(piece.notes))
        return cls(
            metrics={name: join([p.metrics[name] for p in pieces]) for name in first.metrics},
            series={name: stack_series(name, [p.series[name] for p in pieces]) for name in first.series},
            breakdowns={
                name: {part: join([p.breakdowns[name][part] for p in pieces]) for part in parts}
                for name, parts in first.breakdowns.items()
            },
            notes=list(notes),
            replicate_facts={name: join([p.replicate_facts[name] for p in pieces]) for name in first.replicate_facts},
        )


def _layout(output: ModelOutput) -> tuple[object, ...]:
    """The names in an output (and the series' lengths), which the pieces of one run must share."""
    return (
        sorted(output.metrics),
        sorted((name, np.asarray(values).ndim) for name, values in output.series.items()),
        sorted((name, sorted(parts)) for name, parts in output.breakdowns.items()),
        sorted(output.replicate_facts),
    )


def stack_series(name: str, pieces: Sequence[np.ndarray]) -> np.ndarray:
    """Series of several replicates (pieces of shape (steps,) or (replicates, steps)) as one
    (replicates, steps) array, the shorter ones padded to the longest: a run that stopped early
    (its epidemic was over) stays as it was, so a count (`n_`, `cum_`) keeps its last value and a
    count per step (`new_`) is 0."""
    arrays = [np.atleast_2d(np.asarray(piece)) for piece in pieces]
    steps = max(a.shape[1] for a in arrays)
    padded = [a if a.shape[1] == steps else np.pad(a, ((0, 0), (0, steps - a.shape[1])), mode="edge") for a in arrays]
    if name.startswith("new_"):
        for a, p in zip(arrays, padded, strict=True):
            p[:, a.shape[1] :] = 0
    return np.concatenate(padded, axis=0)


def replicate_seeds(seed: int, start: int, stop: int) -> list[np.random.SeedSequence]:
    """The seed sequences of replicates `start` .. `stop - 1` of a run with `seed`.

    Replicate i of every model that can be split across workers draws from
    `np.random.SeedSequence(seed).spawn(replicates)[i]`, which is `SeedSequence(seed, spawn_key=(i,))`:
    built here from the key, so a worker running replicates 40..49 needs neither the others nor
    the total count.
    """
    return [np.random.SeedSequence(seed, spawn_key=(i,)) for i in range(start, stop)]
