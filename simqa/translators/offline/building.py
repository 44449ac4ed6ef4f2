"""Step 5, building: the kind of answer and the `Request`, from what the reading found.

The kinds follow the architecture's "What each kind means": a definition is explained; what no
model represents is refused, naming it; a search for the value that meets a target is a
calibration; several values of one input are a sweep (three or more) or a compare (two); a change,
an intervention or a choice is a compare with the baseline first and one scenario per option; one
stated situation is a simulate. A value the reading could not place, or a change with no amount,
is a clarify that quotes it and names the candidates. Nothing unstated is written into a scenario:
defaults apply.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from sim.language import ModelLanguage
from simqa.translators.offline import cues
from simqa.translators.offline.lexicon import Mention
from simqa.translators.offline.reading import Change, Item, Reading, Statement, Unit, fit, offers_choice

MAX_VARIANTS = 12


@dataclass
class Variant:
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    first: int = 0


# --------------------------------------------------------------------------- kinds


def is_explain(r: Reading) -> bool:
    """A definition or a question about how a model works, with nothing to run. "What demand would
    explain 9,000 trips?" is not one: what explains a stated result is an input to search for."""
    explains = [m for m in r.cue("explain") if not _explains_a_value(r, m)]
    if not explains and not _bare_term(r):
        return False
    runnable = bool(r.changes or r.targets or any(i.fields or i.start is not None for i in r.items))
    runnable = runnable or any(s.run is not None or s.mention is None or _is_quantity(s) for s in r.statements)
    if not runnable:
        return True
    # a strong cue wins over stated values, unless the question also asks for a run ("what if", "simulate")
    strong = {" ".join(p.split()) for p in cues.STRONG_EXPLAIN}
    has_strong = any(s.phrase in strong for m in explains for s in m.senses)
    asks_run = r.has_cue("what_if") or any(r.tokens[m.first].text in ("simulate", "run") for m in r.cue("run"))
    return has_strong and not asks_run


def _explains_a_value(r: Reading, cue: Mention) -> bool:
    """ "would explain 9,000 casual trips", "explains the 30% attack rate": a value right after the cue."""
    return any(0 <= q.first - cue.last <= 2 for q in r.quantities)


def _is_quantity(s: Statement) -> bool:
    return s.mention is None or not s.mention.of("value")


def _bare_term(r: Reading) -> bool:
    """ "what's a late rate?", "what is a p90?": a term asked for with no 'the' and nothing stated."""
    words = [t.text for t in r.tokens if t.text not in ("?", ".", "!")]
    if len(words) > 6 or r.quantities:
        return False
    head = " ".join(words[:2])
    if head not in ("what's", "what is", "whats", "what are", "what's a", "what is a") and words[:1] != ["what's"]:
        return False
    rest = words[2:] if words[:2] in (["what", "is"], ["what", "are"]) else words[1:]
    return (
        bool(rest)
        and rest[0] not in ("the", "our", "my")
        and any(m.of("metric", r.model) or m.of("param", r.model) or m.of("intervention", r.model) for m in r.mentions)
    )


def asks_unknown(r: Reading, all_mentions: list[Mention]) -> str | None:
    """The thing a "how many X" question asks for, when no model's language knows X ("docks", "teachers")."""
    if r.asked is not None:
        return None  # "how many give 120,000 trips": an input the question named before
    tokens = r.tokens
    known = {a for m in [*all_mentions, *r.changes_layer, *r.relations] for a in m.anchors}
    for c in r.cues:
        if not c.has("cue", "calibrate") and not c.has("cue", "run"):
            continue
        head = " ".join(tokens[a].text for a in c.anchors)
        if head != "how many":
            continue
        k = c.last
        while k < len(tokens) and tokens[k].text in cues.ASK_FILLERS:
            k += 1
        if k >= len(tokens) or tokens[k].kind != "word" or k in known:
            continue
        if tokens[k].text in cues.VAGUE_WORDS or len(tokens[k].text) < 4:
            continue
        return tokens[k].text
    return None


# --------------------------------------------------------------------------- building requests


def build(r: Reading, question: str) -> dict[str, Any]:
    """The request for a reading whose kind is one of the runs (or a clarify about what it read)."""
    if r.unplaced:
        return _clarify_unplaced(r, r.unplaced[0])
    if r.vague:
        return _clarify_vague(r, r.vague[0])
    base, variants, against = _scenarios(r)
    unpaired = _unpaired_lists(r, base, variants)
    if unpaired is not None:
        return unpaired
    if r.asked is not None and r.targets:
        return _calibrate(r, base)
    sweep = _sweep(r, base)
    if sweep is not None and not against:
        return sweep
    if variants:
        return _compare(r, base, variants)
    return {
        "kind": "simulate",
        "model": r.model,
        "scenarios": [_scenario("baseline", r.model, base.params, base.items)],
    }


def _scenarios(r: Reading) -> tuple[Variant, list[Variant], bool]:
    """The baseline and the variants: options after the baseline, or the values a list names."""
    zone = _options_zone(r)
    _split_two_value_fields(r)
    multi = _lists(r)
    singles = _merge_repeated(r, multi)
    items = [
        i
        for i in r.items
        if not i.negated and not (r.asked and r.asked.intervention == i.type and r.asked.field not in i.fields)
    ]
    changes = list(r.changes)
    clause = _effect_clause(r)
    against_at = _against(r)
    base = Variant("baseline")
    variant_statements: list[Statement] = []
    for s in singles:
        in_zone = zone is not None and zone[0] <= s.first < zone[1]
        in_clause = clause is not None and clause[0] <= s.first < clause[1] and not _situational(r, s)
        if in_zone or (in_clause and not items and not changes and not multi):
            variant_statements.append(s)
        else:
            base.params[s.param] = s.values[0]
    base.items.extend(i for i in r.items if r.asked and r.asked.intervention == i.type)
    if multi and not (items or changes or variant_statements):
        return (*_list_scenarios(r, base, multi, against_at), against_at is not None)
    situation = _situation_items(r, items, clause) if multi and items and not (changes or variant_statements) else None
    if situation is not None:
        # "with case isolation at 80%, what if cases were isolated after 2 days instead of 4.6": the
        # interventions stated before the what-if clause are the situation every option shares
        base.items.extend(situation)
        return (*_list_scenarios(r, base, multi, against_at), against_at is not None)
    for s in multi:
        base.params.setdefault(s.param, s.values[0])
    elements: list[tuple[int, Any]] = [(s.first, s) for s in variant_statements]
    elements += [(c.first, c) for c in changes]
    elements += [(i.position, i) for i in items]
    elements.sort(key=lambda e: e[0])
    if not elements:
        return base, [], against_at is not None
    variants = [_group_variant(r, base, group) for group in _option_groups(r, elements, zone)]
    return base, variants[:MAX_VARIANTS], against_at is not None


def _lists(r: Reading) -> list[Statement]:
    """The statements naming several values of one parameter that are options, not a sweep."""
    return [s for s in r.statements if len(s.values) >= 2 and not _is_sweep_list(r, s)]


def _situation_items(r: Reading, items: list[Item], clause: tuple[int, int] | None) -> list[Item] | None:
    """The interventions stated before the what-if clause, when those in it only name them again
    ("case isolation at 80%: what if cases were isolated ..."); None when the clause adds one."""
    if clause is None:
        return None

    def stated_before(i: Item) -> bool:  # named before the clause ("case isolation with 80% compliance: what if ...")
        return i.position < clause[0] or any(
            m.first < clause[0] and any(s.category == "intervention" and s.key == i.type for s in m.senses)
            for m in r.mentions
        )

    before = [i for i in items if stated_before(i)]
    named = {i.type for i in before}
    in_clause = [i for i in items if not stated_before(i)]
    if not before or any(i.type not in named or i.fields for i in in_clause):
        return None
    return before


def _unpaired_lists(r: Reading, base: Variant, variants: list[Variant]) -> dict[str, Any] | None:
    """Several values of one parameter beside interventions or changes that are options too: which
    value goes with which option is not said, so ask rather than run only the first value."""
    if not variants or r.asked is not None:
        return None
    for s in _lists(r):
        used = {_key(v.params.get(s.param)) for v in (base, *variants)}
        missing = [v for v in s.values if _key(v) not in used]
        if len(missing) == len(s.values) - 1 and len(s.values) >= 2 and len(used) == 1:
            options = ", ".join(v.label for v in variants)
            return {
                "kind": "clarify",
                "model": r.model,
                "message": (
                    f"I read {_name(r, s.param)} = {', '.join(_fmt(v) for v in s.values)} and the options "
                    f"{options}; which values of {_name(r, s.param)} go with which option? Ask for each "
                    "combination you want compared."
                ),
            }
    return None


def _merge_repeated(r: Reading, multi: list[Statement]) -> list[Statement]:
    """Several statements of one parameter joined by "vs" or "or" become a list of its values (added
    to multi); a value stated twice counts once. Returns the single statements left."""
    singles = [s for s in r.statements if len(s.values) == 1]
    by_param: dict[str, list[Statement]] = {}
    for s in singles:
        by_param.setdefault(s.param, []).append(s)
    for param, same in by_param.items():
        values = list(dict.fromkeys(_key(v) for s in same for v in s.values))
        if len(values) >= 2:
            ordered = sorted(same, key=lambda s: s.first)
            multi.append(
                Statement(
                    param,
                    [v for s in ordered for v in s.values],
                    ordered[0].first,
                    ordered[-1].last,
                    " / ".join(s.text for s in ordered),
                )
            )
            singles = [s for s in singles if s not in same]
        elif len(same) > 1:
            singles = [s for s in singles if s is same[0] or s not in same]
    return singles


def _list_scenarios(
    r: Reading, base: Variant, multi: list[Statement], against_at: int | None
) -> tuple[Variant, list[Variant]]:
    """One scenario per value a list names; the baseline is the value compared against, the default
    when the list offers "none", or the first."""
    s = multi[0]
    before = [o for o in r.statements if o.param == s.param and len(o.values) == 1 and o.first < s.first]
    values = [*(v for o in before for v in o.values), *s.values]
    base.params.pop(s.param, None)
    labels = [f"{s.param}={_fmt(v)}" for v in values]
    order = list(range(len(values)))
    default = _default(r, s.param)
    if against_at is not None and not before:
        against = min(range(len(values)), key=lambda i: abs(_position(r, s, i) - against_at))
        order = [against] + [i for i in order if i != against]
    elif default in values and values.index(default) != 0 and _says_none(r):
        # "batching up to 4 orders vs no batching": the option that is the default is the baseline
        d = values.index(default)
        order = [d] + [i for i in order if i != d]
        labels[d] = "baseline"
    variants = [Variant(labels[i], params={**base.params, s.param: values[i]}, items=list(base.items)) for i in order]
    first, rest = variants[0], variants[1:]
    base.params, base.label = first.params, first.label
    for other in multi[1:]:
        base.params.setdefault(other.param, other.values[0])
    return base, rest


def _group_variant(r: Reading, base: Variant, group: list[tuple[int, Any]]) -> Variant:
    """One option: the baseline with the group's statements, changes and interventions, labelled by them."""
    v = Variant("", params=dict(base.params), items=list(base.items), first=group[0][0])
    names = []
    for _, element in group:
        if isinstance(element, Statement):
            v.params[element.param] = element.values[0]
            names.append(f"{element.param}={_fmt(element.values[0])}")
        elif isinstance(element, Change):
            stated = element.param in v.params or element.param in base.params
            start = v.params.get(element.param, base.params.get(element.param, _default(r, element.param)))
            v.params[element.param] = _changed(r, element, start)
            r.notes.append(change_note(element, start, v.params[element.param], stated))
            names.append(f"{element.param}={_fmt(v.params[element.param])}")
        else:
            v.items.append(element)
            names.append(element.type)
    v.label = "+".join(names)[:80] or "variant"
    return v


def _says_none(r: Reading) -> bool:
    return any(t.text in ("no", "without", "none", "not", "single") for t in r.tokens)


def _split_two_value_fields(r: Reading) -> None:
    """ "vaccinating 0.5% vs 1% a day": two values of an intervention field are two options."""
    for item in list(r.items):
        for name, values in list(item.sweeps.items()):
            if len(values) != 2:
                continue
            del item.sweeps[name]
            item.fields[name] = values[0]
            copy = Item(
                type=item.type,
                mention=item.mention,
                fields={**item.fields, name: values[1]},
                start=item.start,
                duration=item.duration,
                until=item.until,
                to_end=item.to_end,
                alternative_to=r.items.index(item),
                at=(item.mention.last if item.mention else None),
            )
            r.items.append(copy)


def _key(v: Any) -> Any:
    return round(v, 9) if isinstance(v, float) else v


def _position(r: Reading, s: Statement, i: int) -> int:
    if i < len(s.positions):
        return s.positions[i]
    return s.first if i == 0 else s.last


def _option_groups(
    r: Reading, elements: list[tuple[int, Any]], zone: tuple[int, int] | None
) -> list[list[tuple[int, Any]]]:
    """One group per option: elements apart by "," / "or" / "(b)" are options when the question offers a choice."""
    choice = (
        zone is not None
        or offers_choice(r)
        or any(isinstance(e, Item) and e.alternative_to is not None for _, e in elements)
    )
    if not choice:
        return [elements]
    groups: list[list[tuple[int, Any]]] = [[elements[0]]]
    for (a_at, a), (b_at, b) in itertools.pairwise(elements):
        end_a = getattr(a, "last", None) or (a.mention.last if isinstance(a, Item) and a.mention else a_at + 1)
        between = {t.text for t in r.tokens[min(end_a, b_at) : b_at]}
        alternative = isinstance(b, Item) and b.alternative_to is not None
        if (
            between & {",", "or", "vs", "versus", "(", ";"}
            or (isinstance(b, Item) and isinstance(a, Item))
            or alternative
        ):
            groups.append([(b_at, b)])
        else:
            groups[-1].append((b_at, b))
    return groups


def _options_zone(r: Reading) -> tuple[int, int] | None:
    """Where a list of options stands: after "Options:", "which helps most:", "rank these ...:", to the
    end of that sentence."""
    start = None
    for m in r.cue("options"):
        word = r.tokens[m.first].text
        if word in ("or", "each", "either", "most", "vs", "versus"):
            continue
        for k in range(m.last, min(len(r.tokens), m.last + 12)):
            if r.tokens[k].text == ":":
                start = k + 1
                break
            if r.tokens[k].text in (".", "?", ";"):
                break
        if start is not None:
            break
    if start is None:
        for k, t in enumerate(r.tokens):
            if t.text == ":" and any(m.first < k for m in r.cue("options")) and k + 1 < len(r.tokens):
                start = k + 1
                break
    if start is None:
        return None
    end = next((k for k in range(start, len(r.tokens)) if r.tokens[k].text in (".", "?", "!", ";")), len(r.tokens))
    return start, end


def _effect_clause(r: Reading) -> tuple[int, int] | None:
    """The part of a what-if or effect question that states the change: the "if ..." clause of a
    what-if question ("if riders could take 4 orders per trip, what would happen"), or the words
    between an effect question's verbs ("does letting riders carry 2 orders help")."""
    cues_found = r.cue("what_if")
    if not cues_found:
        return None
    for k, t in enumerate(r.tokens):
        if t.text == "if":
            end = next(
                (j for j in range(k + 1, len(r.tokens)) if r.tokens[j].text in (",", ".", "?", "!", ";")), len(r.tokens)
            )
            return k, end
    m = cues_found[0]
    if m.gap:
        return m.first, m.last
    end = next((k for k in range(m.last, len(r.tokens)) if r.tokens[k].text in (".", "?", "!", ";")), len(r.tokens))
    return m.first, end


def _situational(r: Reading, s: Statement) -> bool:
    """A value that describes the situation ("with 30 riders and 140 orders an hour", "in a town of 50k")."""
    first = min(s.first, s.mention.first if s.mention is not None else s.first)
    k = first - 1
    while k >= 0 and first - k <= 6 and r.tokens[k].text not in (",", ".", "?", "!", ";", ":", "if"):
        if r.tokens[k].text in ("in", "for", "with", "when", "while", "given", "currently", "now", "of", "at"):
            return True
        k -= 1
    return False


def _against(r: Reading) -> int | None:
    """The token after "against" / "compared with": what follows is the baseline."""
    marks = r.cue("against")
    for m in marks:
        word = r.tokens[m.first].text
        if word == "than":
            continue
        return m.last
    return None


def _is_sweep_list(r: Reading, s: Statement) -> bool:
    return len(s.values) >= 3 and _against(r) is None


def _sweep(r: Reading, base: Variant) -> dict[str, Any] | None:
    lists = [s for s in r.statements if _is_sweep_list(r, s)]
    field_sweeps = [(i, f, v) for i in r.items for f, v in i.sweeps.items()]
    if field_sweeps:
        item, name, values = field_sweeps[0]
        if len(values) < 3:
            return None  # two values of a field are two options: a compare
        items = [i for i in r.items if not i.negated]
        scenario = _scenario("baseline", r.model, base.params, items)
        return {
            "kind": "sweep",
            "model": r.model,
            "scenarios": [scenario],
            "sweep": {"param": f"{item.type}.{name}", "values": values},
        }
    if not lists:
        return None
    s = lists[0]
    params = {k: v for k, v in base.params.items() if k != s.param}
    items = [i for i in r.items if not i.negated]
    scenario = _scenario("baseline", r.model, params, items)
    return {
        "kind": "sweep",
        "model": r.model,
        "scenarios": [scenario],
        "sweep": {"param": s.param, "values": list(s.values)},
    }


def _calibrate(r: Reading, base: Variant) -> dict[str, Any]:
    asked = r.asked
    assert asked is not None
    target = r.targets[0]
    params = {k: v for k, v in base.params.items() if k != asked.param}
    items = [i for i in r.items if not i.negated]
    if asked.intervention and not any(i.type == asked.intervention for i in items):
        items.append(Item(type=asked.intervention, mention=None, implicit=True))
    relation = target.relation
    metric = r.language.metrics[target.metric]
    if (
        relation == "eq"
        and metric.better
        and any(
            r.tokens[m.first].text in ("need", "needed", "required", "so", "to keep", "keep", "keeps")
            for m in r.cue("target_link")
        )
    ):
        # "how many riders do we need so that ...": enough to reach the target, a limit on the good side
        relation = "le" if metric.better == "lower" else "ge"
    spec: dict[str, Any] = {
        "param": asked.target,
        "metric": target.metric,
        "target": target.value,
        "relation": relation,
    }
    if r.probability is not None:
        spec["probability"] = r.probability  # "in 90% of shifts": a limit met in that share of replicates
        if relation == "eq" and metric.better:
            spec["relation"] = "le" if metric.better == "lower" else "ge"
    if asked.lower is not None:
        spec["lower"] = asked.lower
    if asked.upper is not None:
        spec["upper"] = asked.upper
    scenario = _scenario("baseline", r.model, params, items)
    return {"kind": "calibrate", "model": r.model, "scenarios": [scenario], "calibrate": spec}


def _compare(r: Reading, base: Variant, variants: list[Variant]) -> dict[str, Any]:
    return compare_draft(
        r.model,
        [_scenario(base.label or "baseline", r.model, base.params, base.items)]
        + [_scenario(v.label, r.model, v.params, v.items) for v in variants],
    )


def compare_draft(model: str, scenarios: list[dict[str, Any]]) -> dict[str, Any]:
    """A compare of distinct scenarios (a simulate when only one is left), labels made unique."""
    import json

    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for sc in scenarios:
        key = json.dumps({k: v for k, v in sc.items() if k != "label"}, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        out.append(dict(sc))
    if len(out) < 2:
        return {"kind": "simulate", "model": model, "scenarios": out[:1]}
    labels = [s["label"] for s in out]
    new_labels = []
    for n, s in enumerate(out):
        if labels.count(s["label"]) > 1:
            same = [o for o in out if o is not s and o["label"] == s["label"]]
            new_labels.append((f"{s['label']} {_distinct(s, same)}".strip())[:80] or f"scenario {n + 1}")
        else:
            new_labels.append(s["label"])
    for s, label in zip(out, new_labels, strict=True):
        s["label"] = label
    labels = [s["label"] for s in out]
    for n, s in enumerate(out):
        if labels.count(s["label"]) > 1:
            s["label"] = f"{s['label']} ({n + 1})"[:80]
    return {"kind": "compare", "model": model, "scenarios": out}


def _distinct(scenario: dict[str, Any], others: list[dict[str, Any]]) -> str:
    """What sets a scenario apart from others of the same label ("start_day=30")."""
    mine = {f"{k}={_fmt(v)}" for iv in scenario["interventions"] for k, v in iv.items() if k != "type"}
    mine |= {f"{k}={_fmt(v)}" for k, v in scenario["params"].items()}
    theirs = set()
    for o in others:
        theirs |= {f"{k}={_fmt(v)}" for iv in o["interventions"] for k, v in iv.items() if k != "type"}
        theirs |= {f"{k}={_fmt(v)}" for k, v in o["params"].items()}
    return " ".join(sorted(mine - theirs))


def _scenario(label: str, model: str, params: dict[str, Any], items: list[Item]) -> dict[str, Any]:
    return {
        "label": label[:80] or "baseline",
        "model": model,
        "params": dict(params),
        "interventions": [_intervention(i) for i in items],
    }


def _intervention(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"type": item.type}
    if item.start is not None:
        out["start_day"] = round(item.start) if float(item.start).is_integer() else item.start
    if item.duration is not None and not item.to_end:
        out["duration_days"] = round(item.duration) if float(item.duration).is_integer() else item.duration
    out.update(item.fields)
    return out


def change_note(change: Change, start: Any, value: Any, stated: bool) -> str:
    """What a relative change was relative to: "<param> = 156 (30% more than the default 120)"."""
    if change.to is not None:
        how = "set"
    elif change.factor is not None:
        how = f"x{change.factor:.4g}"
    else:
        how = f"{'+' if (change.delta or 0) >= 0 else ''}{change.delta:.4g}"
    origin = "stated" if stated else "default"
    return f"{change.param} = {_fmt(value)} ({change.text}: {how} from the {origin} {_fmt(start)})"


def key_default_notes(r: Reading, draft: dict[str, Any]) -> list[str]:
    """The defaults that matter, named when the question leaves them out ("<param> not stated: used the default 100,000")."""
    from sim.registry import get_model

    fields = get_model(r.model).params.model_fields
    stated = {k for sc in draft.get("scenarios", []) for k in sc.get("params", {})}
    stated |= {str((draft.get(part) or {}).get("param")) for part in ("sweep", "calibrate")}
    return [
        f"{name} not stated: used the default {_fmt(fields[name].default)}"
        for name, p in r.language.params.items()
        if p.key and name not in stated and name in fields
    ]


def _changed(r: Reading, change: Change, start: Any) -> Any:
    p = r.language.params[change.param]
    value = float(start)
    if change.to is not None:
        value = change.to
    elif change.factor is not None:
        value = value * change.factor
    elif change.delta is not None:
        value = value + change.delta
    if p.dimension == "count" and math.isfinite(value):
        value = round(value)
    return round(value, 10) if isinstance(value, float) else value


def _default(r: Reading, param: str) -> Any:
    from sim.registry import get_model

    return get_model(r.model).params.model_fields[param].default


def _name(r: Reading, param: str) -> str:
    return param.replace("_", " ")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) >= 10_000 else f"{value:.6g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


# --------------------------------------------------------------------------- clarify


def _clarify_unplaced(r: Reading, unit: Unit) -> dict[str, Any]:
    excluded = _exclusion_near(r, unit)
    if excluded is not None:
        phrase, name = excluded
        message = (
            f"'{unit.text}' goes with '{phrase}', and the {r.model} model does not represent {name}, so it "
            f"cannot use that value. Should I answer without it?"
        )
        stated = [f"{s.param} = {', '.join(_fmt(v) for v in s.values)}" for s in r.statements]
        if stated:
            message += f" The rest I read as: {'; '.join(stated)}."
        return {"kind": "clarify", "model": r.model, "message": message}
    candidates = _candidates_for(r.language, unit)
    names = ", ".join(candidates[:4]) if candidates else "nothing this model takes"
    message = (
        f"I could not tell what '{unit.text}' refers to in this question. "
        f"For the {r.model} model it could be: {names}. Which one do you mean?"
    )
    return {"kind": "clarify", "model": r.model, "message": message}


def _exclusion_near(r: Reading, unit: Unit) -> tuple[str, str] | None:
    """ "30% of people are already immune": a value stated for something the model leaves out, as
    (the question's phrase, the model's name for it)."""
    for m in r.mentions:
        senses = [s for s in m.senses if s.category == "exclude" and s.model == r.model]
        if senses and (0 <= m.first - unit.last <= 5 or 0 <= unit.first - m.last <= 2):
            name = next((e.name for e in r.language.excludes if e.name == senses[0].key), senses[0].key)
            return m.text, name
    return None


def _candidates_for(lang: ModelLanguage, unit: Unit) -> list[str]:
    q = unit.head
    out = []
    for name, p in lang.params.items():
        if name in ("seed",):
            continue
        if fit(q, p.dimension, p.unit)[0]:
            out.append(name)
    for name, iv in lang.interventions.items():
        for field_name, f in iv.fields.items():
            if fit(q, f.dimension, f.unit)[0]:
                out.append(f"{name}.{field_name}")
    return out


def _clarify_vague(r: Reading, param: str) -> dict[str, Any]:
    from sim.registry import get_model
    from sim.scenario import describe_allowed

    spec = get_model(r.model)
    default = spec.params.model_fields[param].default
    allowed = describe_allowed(spec.params, param)
    message = (
        f"By how much should {param} change? Give a value or an amount (it is {default} by default; "
        f"allowed: {allowed})."
    )
    return {"kind": "clarify", "model": r.model, "message": message}
