"""Step 6, follow-ups: a question that refines the previous turn of a conversation.

The architecture's rules: a changed value compares the old scenario with the new one; an added
intervention keeps the earlier scenarios and adds one with both; a new target repeats the
calibration; new values of the situation apply to the repeated sweep or calibration. A bare value
("what about 52?") goes to what the previous turn varied, or to the stated value it is most like.
"""

from __future__ import annotations

import math
from typing import Any

from sim.scenario import Scenario
from simqa.request import Request
from simqa.translators.offline.building import _changed, _default, _intervention, compare_draft
from simqa.translators.offline.reading import Item, Reading, Target, Unit, _metric_fit, fit

FOLLOW_WORDS = (
    "and",
    "what about",
    "how about",
    "also",
    "now",
    "ok",
    "okay",
    "so",
    "then",
    "same",
    "instead",
    "but",
    "plus",
    "too",
    "back to",
    "what if we also",
    "on top of that",
    "in addition",
)


def looks_like_follow_up(text: str) -> bool:
    start = text.strip().lstrip("'\"(").lower()
    return any(start == w or start.startswith(w + " ") or start.startswith(w + ",") for w in FOLLOW_WORDS)


def as_draft(scenario: Scenario) -> dict[str, Any]:
    """A scenario as plain data, with only the intervention fields that were stated."""
    return {
        "label": scenario.label,
        "model": scenario.model,
        "params": dict(scenario.params),
        "interventions": [
            {**iv.model_dump(mode="json", exclude_unset=True), "type": iv.type} for iv in scenario.interventions
        ],
    }


_BACK = frozenset({"that", "it", "this", "them", "those", "these", "there"})
_NOT_BACK_BEFORE = frozenset({"so", "such", "than", "is", "now", "and"})


def refers_back(tokens: list[Any]) -> bool:
    """The question points at the previous turn ("get that under 35 minutes", "what is it with 45 riders")."""
    for i, t in enumerate(tokens):
        if t.text in _BACK and (i == 0 or tokens[i - 1].text not in _NOT_BACK_BEFORE):
            nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
            if t.text == "that" and nxt in (
                "keeps",
                "keep",
                "gives",
                "give",
                "holds",
                "brings",
                "puts",
                "makes",
                "would",
                "will",
                "can",
                "could",
                "is",
                "are",
                "has",
            ):
                continue
            return True
    return False


def _same_family(a: str | None, b: str) -> bool:
    from sim.registry import get_model

    try:
        fa, fb = get_model(a or "").words.family, get_model(b).words.family
    except Exception:
        return False
    return fa is not None and fa == fb


def _to_model(scenario: dict[str, Any], r: Reading) -> dict[str, Any]:
    """A scenario of a model of the same family ("and if we also close schools?" after a run of the cheaper model)."""
    if scenario["model"] == r.model:
        return scenario
    params = {k: v for k, v in scenario["params"].items() if k in r.language.params}
    ivs = [iv for iv in scenario["interventions"] if iv["type"] in r.language.interventions]
    return {**scenario, "model": r.model, "params": params, "interventions": ivs}


def refine(r: Reading, previous: Request, previous_metrics: list[str]) -> dict[str, Any] | None:
    """The refined request draft, or None when the question does not refine `previous` (read it on its own)."""
    if not previous.scenarios:
        return None
    if previous.model != r.model and not _same_family(previous.model, r.model):
        return None
    scenarios = [_to_model(as_draft(s), r) for s in previous.scenarios]
    base = scenarios[0]
    last = scenarios[-1]
    new_params = {s.param: s.values[0] for s in r.statements if len(s.values) == 1}
    lists = [s for s in r.statements if len(s.values) >= 2]
    new_items = [i for i in r.items if not i.negated and (i.fields or i.start is not None or i.mention is not None)]
    instead = r.has_cue("instead")
    back = any(r.tokens[m.first].text == "back" for m in r.cue("follow_up"))
    unplaced = list(r.unplaced)
    # a bare value: the previous target, what the previous turn varied, or the value it is most like
    for unit in list(unplaced):
        placed = _place_bare(r, unit, previous, previous_metrics, new_params)
        if placed:
            unplaced.remove(unit)
    if unplaced:
        return None
    horizon = next((n for n, p in r.language.params.items() if p.horizon), None)
    timing = r.language.timing
    if (instead or r.has_cue("update")) and horizon in new_params and last["interventions"] and timing:
        # "make it 6 weeks instead": the length of the intervention, not of the run
        ivs = [
            {**iv, timing.duration_field: int(new_params.pop(horizon))} if n == len(last["interventions"]) - 1 else iv
            for n, iv in enumerate(last["interventions"])
        ]
        return {
            "kind": previous.kind,
            "model": r.model,
            "scenarios": [*scenarios[:-1], {**last, "interventions": ivs}],
            **({"sweep": previous.sweep.model_dump()} if previous.sweep else {}),
        }
    nothing_new = not (new_params or lists or new_items or r.changes or r.targets or r.asked)
    if nothing_new:
        return _repeat(previous, scenarios)  # "what's the peak day?": the same runs, another result
    update = r.has_cue("update") and not r.has_cue("what_if")
    if previous.kind == "calibrate" and previous.calibrate is not None:
        calibrate = previous.calibrate.model_dump(exclude_none=True)
        if r.targets:
            t = r.targets[0]
            if t.metric == previous.calibrate.metric or not previous_metrics:
                calibrate.update(metric=t.metric, target=t.value, relation=t.relation)
        params = {**base["params"], **new_params}
        params.pop(str(calibrate["param"]), None)
        return {
            "kind": "calibrate",
            "model": r.model,
            "scenarios": [{**base, "params": params}],
            "calibrate": calibrate,
        }
    if previous.kind == "sweep" and previous.sweep is not None and not lists:
        params = {**base["params"], **new_params}
        params.pop(previous.sweep.param, None)
        interventions = [*base["interventions"], *[_intervention(i) for i in new_items]]
        return {
            "kind": "sweep",
            "model": r.model,
            "scenarios": [{**base, "params": params, "interventions": interventions}],
            "sweep": previous.sweep.model_dump(),
        }
    if update and (new_params or r.changes):
        # "assume R0 is 1.4": the situation corrected; every earlier scenario runs with it
        updated = []
        for sc in scenarios:
            params = {**sc["params"], **new_params}
            for c in r.changes:
                params[c.param] = _changed(r, c, params.get(c.param, _default(r, c.param)))
            updated.append({**sc, "params": params})
        return {"kind": previous.kind, "model": r.model, "scenarios": updated}
    if r.asked is not None and r.targets:
        # a new calibration in the previous situation: the question's own values over the previous ones
        from simqa.translators.offline.building import build

        draft = build(r, "")
        if draft.get("kind") == "calibrate":
            params = {**base["params"], **draft["scenarios"][0]["params"]}
            params.pop(r.asked.target, None)
            draft["scenarios"][0]["params"] = params
            return draft
        return None
    if back:
        params = {**base["params"], **new_params}
        return {"kind": "simulate", "model": r.model, "scenarios": [{**base, "params": params, "label": "baseline"}]}
    if new_items and not new_params and not r.changes:
        if instead:
            replaced = _replace_items(last, new_items)
            return compare_draft(r.model, [*scenarios, replaced])
        label = "+".join(i.type for i in new_items)
        own = "+".join(iv["type"] for iv in last["interventions"])
        added = {
            **last,
            "label": (f"{own}+{label}" if own else label)[:80],
            "interventions": [*last["interventions"], *[_intervention(i) for i in new_items]],
        }
        first = scenarios if previous.kind == "compare" else [{**base, "label": "baseline"}]
        return compare_draft(r.model, [*first, added])
    if previous.kind == "compare" and (new_params or r.changes) and not new_items:
        varied = {
            k
            for k in set().union(*(sc["params"] for sc in scenarios))
            if len({str(sc["params"].get(k)) for sc in scenarios}) > 1
        }
        if not (set(new_params) & varied) and not any(c.param in varied for c in r.changes):
            # "and with R0 of 3?": the same comparison in the new situation
            updated = []
            for sc in scenarios:
                params = {**sc["params"], **new_params}
                for c in r.changes:
                    params[c.param] = _changed(r, c, params.get(c.param, _default(r, c.param)))
                updated.append({**sc, "params": params})
            return {"kind": "compare", "model": r.model, "scenarios": updated}
    if new_params or r.changes:
        changed = dict(last["params"])
        changed.update(new_params)
        for c in r.changes:
            start = changed.get(c.param, _default(r, c.param))
            changed[c.param] = _changed(r, c, start)
        if changed == last["params"] and not new_items:
            return None
        label = ", ".join(f"{k}={_fmt(v)}" for k, v in changed.items() if last["params"].get(k) != v)
        new = {
            **last,
            "label": label[:80] or "changed",
            "params": changed,
            "interventions": [*last["interventions"], *[_intervention(i) for i in new_items]],
        }
        old_label = ", ".join(f"{k}={_fmt(v)}" for k, v in last["params"].items() if k in changed and changed[k] != v)
        old = {**last, "label": (old_label or "baseline")[:80]}
        first = scenarios if previous.kind == "compare" else [old]
        return compare_draft(r.model, [*first, new])
    return None


def _repeat(previous: Request, scenarios: list[dict[str, Any]]) -> dict[str, Any]:
    draft: dict[str, Any] = {"kind": previous.kind, "model": previous.model, "scenarios": scenarios}
    if previous.sweep is not None:
        draft["sweep"] = previous.sweep.model_dump()
    if previous.calibrate is not None:
        draft["calibrate"] = previous.calibrate.model_dump(exclude_none=True)
    return draft


def _place_bare(r: Reading, unit: Unit, previous: Request, metrics: list[str], params: dict[str, Any]) -> bool:
    q = unit.head
    lang = r.language
    if previous.kind == "calibrate" and previous.calibrate is not None:
        ok, value, _ = _metric_fit(q, lang, previous.calibrate.metric)
        if ok and not r.targets:
            relation = previous.calibrate.relation
            r.targets.append(Target(previous.calibrate.metric, value, relation, q.first, q.last, q.text))
            return True
    for metric in metrics:
        if r.asked is not None and not r.targets:
            ok, value, _ = _metric_fit(q, lang, metric)
            if ok:
                from simqa.translators.offline.reading import _relation

                r.targets.append(Target(metric, value, _relation(r, q), q.first, q.last, q.text))
                return True
    # the parameter the previous turn varied, else the stated value most like this one
    stated = previous.scenarios[-1].params
    varied = [k for k in stated if len({str(s.params.get(k)) for s in previous.scenarios}) > 1]
    options = varied or [k for k in stated if k not in params]
    best, best_distance = None, math.inf
    for name in options:
        p = lang.params.get(name)
        if p is None:
            continue
        ok, value, _ = fit(q, p.dimension, p.unit)
        old = stated.get(name)
        if not ok or not isinstance(old, int | float) or old <= 0 or value <= 0:
            continue
        distance = abs(math.log(value / old))
        if distance < best_distance:
            best, best_distance = (name, value), distance
    if best is None:
        for item_type in {iv.type for s in previous.scenarios for iv in s.interventions}:
            strength = lang.interventions[item_type].strength if item_type in lang.interventions else None
            if strength is None:
                continue
            f = lang.interventions[item_type].fields[strength]
            ok, value, _ = fit(q, f.dimension, f.unit)
            if ok:
                r.items.append(Item(type=item_type, mention=None, fields={strength: value}, implicit=True))
                r.items[-1].same = True
                return True
        return False
    name, value = best
    if lang.params[name].dimension == "count" and float(value).is_integer():
        value = int(value)
    from simqa.translators.offline.reading import Statement

    r.statements.append(Statement(name, [value], q.first, q.last, q.text))
    params[name] = value
    return True


def _replace_items(scenario: dict[str, Any], items: list[Item]) -> dict[str, Any]:
    """ "a 50% contact cut instead": the same intervention with the new strength, its timing kept;
    "isolate cases instead" (of a lockdown): the new intervention in place of the old ones."""
    new = {i.type: _intervention(i) for i in items}
    same_type = any(iv["type"] in new for iv in scenario["interventions"])
    interventions = []
    for iv in scenario["interventions"]:
        fresh = new.pop(iv["type"], None)
        if fresh:
            interventions.append({**iv, **fresh})
        elif not same_type:
            continue  # replaced by the new one
        else:
            interventions.append(iv)
    interventions.extend(new.values())
    label = "+".join(iv["type"] for iv in interventions) or "instead"
    return {**scenario, "interventions": interventions, "label": label}


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


__all__ = ["as_draft", "looks_like_follow_up", "refine"]
