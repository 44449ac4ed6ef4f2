"""The `simqa` command line: ask, chat, run, eval, index, runs.

Exit codes: 0 success; 2 a user mistake (bad scenario, bad JSON, unknown option) with one line
saying what was wrong and what is allowed; 3 a service that failed (LLM endpoint, store).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import ClusterError, LLMError, MissingDependency, SimqaError, StoreError

EXIT_USAGE = 2
EXIT_SERVICE = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simqa",
        description="Ask simulation models questions in plain language, offline or with any OpenAI-compatible LLM.",
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run compares, sweeps and calibrations on the Dask scheduler at ADDRESS (tcp://host:8786); "
        "default: $SIMQA_DASK_ADDRESS, else in this process",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask = sub.add_parser("ask", help="answer one question", description="Answer one question.")
    ask.add_argument("question", help='the question, e.g. "what if R0 is 3 in a city of 1 million?"')
    ask.add_argument("--json", action="store_true", help="print the Answer JSON instead of text")
    ask.add_argument("--translator", choices=["auto", "llm", "offline"], default="auto", help="default: auto")
    ask.add_argument("--no-cache", action="store_true", help="run even when an identical run is stored")
    ask.add_argument("--no-plot", action="store_true", help="do not save a plot of the key series")

    chat = sub.add_parser("chat", help="multi-turn conversation", description="Multi-turn conversation.")
    chat.add_argument("--translator", choices=["auto", "llm", "offline"], default="auto", help="default: auto")

    run = sub.add_parser(
        "run",
        help="run a scenario JSON without any LLM",
        description=(
            "Run a scenario JSON ({model, params, interventions}) or a request JSON "
            "({kind, scenarios, sweep, calibrate}) with no LLM and no retrieval; print results JSON."
        ),
    )
    run.add_argument("file", help="path to the JSON file, or - for standard input")
    run.add_argument("--replicates", type=int, default=None, help="override the scenario's replicates")
    run.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    run.add_argument("--no-series", action="store_true", help="leave the daily series out of the output")

    ev = sub.add_parser("eval", help="offline evaluation (see `simqa eval --help`)", add_help=False)
    ev.add_argument("args", nargs=argparse.REMAINDER)

    index = sub.add_parser(
        "index", help="(re)index the docs for retrieval", description="(Re)index the docs, incrementally."
    )
    index.add_argument("--force", action="store_true", help="rewrite the vector store even when nothing changed")

    runs = sub.add_parser("runs", help="past runs: list | show ID", description="Past runs in the run store.")
    runs_sub = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    runs_list = runs_sub.add_parser("list", help="list recent runs")
    runs_list.add_argument("--limit", type=_positive_int, default=20, help="how many (default 20)")
    runs_list.add_argument("--model", default=None)
    runs_show = runs_sub.add_parser("show", help="show one run")
    runs_show.add_argument("run_id", help="a run id or a unique prefix of one")
    runs_sub.add_parser("repair", help="check the run store and repair it (damaged files are moved aside)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # The global option comes before the command; `eval` parses the rest of its line itself.
    if args_list[:1] == ["--dask"] and len(args_list) > 2:
        os.environ["SIMQA_DASK_ADDRESS"], args_list = args_list[1], args_list[2:]
    elif args_list and args_list[0].startswith("--dask="):
        os.environ["SIMQA_DASK_ADDRESS"], args_list = args_list[0].split("=", 1)[1], args_list[1:]
    if args_list[:1] == ["eval"]:
        return _eval(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        if args.command == "ask":
            return _ask(args)
        if args.command == "chat":
            from simqa.chat import run_chat

            return run_chat(args.translator)
        if args.command == "run":
            return _run(args)
        if args.command == "index":
            return _index(args.force)
        if args.command == "runs":
            return _runs(args)
    except (LLMError, StoreError, ClusterError) as exc:
        _error(str(exc))
        return EXIT_SERVICE
    except (SimqaError, MissingDependency) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _error(message: str) -> None:
    print(f"simqa: error: {message}", file=sys.stderr)


def _eval(argv: list[str]) -> int:
    try:
        from evals.cli import main as eval_main
    except ImportError as exc:  # pragma: no cover - evals ships with simqa
        _error(f"the eval suite is not available: {exc}")
        return EXIT_USAGE
    return int(eval_main(argv))


def _ask(args: argparse.Namespace) -> int:
    from rag.paths import simqa_home
    from simqa.assistant import Assistant

    assistant = Assistant(translator=args.translator, cache=not args.no_cache)
    if args.json:
        answer = assistant.ask(args.question)
        print(answer.model_dump_json(indent=2))
        return 0
    from simqa.render import console, render_answer, with_progress

    with with_progress() as progress:
        answer = assistant.ask(args.question, progress=progress)
    plot_path = None
    if not args.no_plot and answer.full_results:
        from simqa.plot import save_plot

        plot_path = save_plot(answer, simqa_home() / "plots" / f"{answer.full_results[0].run_id}.png")
    render_answer(console(), answer, plot_path)
    return 0


def _read_json(path: str) -> Any:
    where = "standard input" if path == "-" else path
    try:
        if path == "-":
            raw = sys.stdin.read()
        else:
            p = Path(path)
            if p.is_dir():
                raise SimqaError(f"{path} is a folder: give a scenario JSON file, or - for standard input")
            if not p.is_file():
                raise SimqaError(f"no such file: {path}")
            raw = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SimqaError(f"{where} is not UTF-8 text: give a scenario JSON file") from None
    except OSError as exc:
        raise SimqaError(f"cannot read {where}: {exc.strerror or exc}") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SimqaError(
            f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            'expected a scenario like {"model": "seir", "params": {"r0": 2.5}}'
        ) from None


def run_payload(data: Any, replicates: int | None = None, seed: int | None = None) -> dict[str, Any]:
    """Run a scenario or request given as JSON data; the results as JSON-ready data."""
    from sim.dispatch import run_request
    from sim.scenario import parse_scenario

    if not isinstance(data, dict):
        raise SimqaError(f"expected a JSON object (a scenario or a request), got {type(data).__name__}")
    if "kind" not in data:
        outcome = run_request("simulate", [parse_scenario(data)], replicates=replicates, seed=seed)
        return {"kind": "simulate", "results": [r.model_dump(mode="json") for r in outcome.results]}
    from pydantic import ValidationError

    from simqa.request import RUN_KINDS, Request

    try:
        request = Request.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "request"
        raise SimqaError(f"invalid request at {where}: {err['msg']}") from None
    if request.kind not in RUN_KINDS:
        raise SimqaError(f"kind {request.kind!r} runs nothing; `simqa run` takes {', '.join(RUN_KINDS)}")
    outcome = run_request(
        request.kind,
        request.scenarios,
        sweep_spec=request.sweep,
        calibrate_spec=request.calibrate,
        replicates=replicates,
        seed=seed,
    )
    out: dict[str, Any] = {"kind": request.kind}
    if request.sweep is not None:
        out["sweep"] = request.sweep.model_dump()
    if outcome.calibration is not None:
        out["calibration"] = outcome.calibration.model_dump(mode="json", exclude={"results"})
    out["results"] = [r.model_dump(mode="json") for r in outcome.results]
    if request.kind == "compare":
        out["differences"] = [d.model_dump(mode="json") for d in outcome.differences]
    if outcome.notes:
        out["notes"] = outcome.notes
    return out


def _run(args: argparse.Namespace) -> int:
    payload = run_payload(_read_json(args.file), args.replicates, args.seed)
    if args.no_series:
        for r in payload["results"]:
            r.pop("series", None)
    print(json.dumps(payload, indent=2))
    return 0


def _index(force: bool) -> int:
    from rag import index_docs

    print(index_docs(force=force))
    return 0


def _runs(args: argparse.Namespace) -> int:
    from rag.runstore import RunStore

    if args.runs_command == "repair":
        print(RunStore().repair())
        return 0
    store = RunStore()
    if args.runs_command == "list":
        rows = store.list(limit=args.limit, model=args.model)
        if not rows:
            print("no runs stored yet: `simqa ask` or `simqa chat` store every run they make")
            return 0
        from simqa.render import console, runs_table

        console().print(runs_table(rows))
        return 0
    shown = store.show(args.run_id)
    if shown is None:
        raise SimqaError(f"no run with id {args.run_id!r}; `simqa runs list` shows the stored ones")
    print(json.dumps(shown if isinstance(shown, dict) else shown.model_dump(mode="json"), indent=2, default=str))
    return 0


def cli_reference() -> str:
    """The Markdown reference of every command's help, kept in docs/cli.md (a test checks it)."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # help text wraps to the terminal; the docs must not depend on it
    try:
        return _cli_reference()
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def _cli_reference() -> str:
    parser = build_parser()
    parts = [
        "# simqa command line",
        "",
        "Generated from the parser by `python -m simqa.cli --write-docs`; a test fails when it is stale.",
        "",
        "```",
        parser.format_help().rstrip(),
        "```",
    ]
    sub_action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in sub_action.choices.items():
        if name == "eval":
            continue
        parts += ["", f"## simqa {name}", "", "```", sub.format_help().rstrip(), "```"]
    try:
        from evals.cli import build_parser as eval_parser

        parts += ["", "## simqa eval", "", "```", eval_parser().format_help().rstrip(), "```"]
    except ImportError:
        pass
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-docs"]:
        Path("docs/cli.md").write_text(cli_reference(), encoding="utf-8")
        sys.exit(0)
    sys.exit(main())
