"""The `simqa` command line: ask, chat, run, eval, index, runs.

Exit codes: 0 success; 2 a user mistake (bad scenario, bad JSON, unknown option) with one line
saying what was wrong and what is allowed; 3 a service that failed (LLM endpoint, store), one line;
1 a bug in simqa, one line (`SIMQA_DEBUG=1` shows the traceback).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rag.errors import StoreError
from sim.errors import ClusterError, MissingDependency, SimqaError
from simqa.errors import LLMError
from simqa.json_input import MAX_DEPTH, MAX_INPUT_BYTES, MAX_NUMBER_DIGITS

EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3
RUN_FILE_RULES = (
    'The file is strict JSON, each value of the type its field declares: "2.5" is a string, not a '
    'number, and 1 or "yes" is not true; numbers are finite (no NaN or Infinity) with at most '
    f"{MAX_NUMBER_DIGITS} digits; nesting at most {MAX_DEPTH} deep; at most {MAX_INPUT_BYTES:,} bytes; "
    "UTF-8, with or without a byte-order mark; a regular file or standard input (a named pipe or a "
    "device is refused). Any mistake is one line on stderr, exit 2, and nothing runs."
)
REQUEST_FIELDS = """\
A request JSON runs one experiment. Its fields are those of the Answer JSON:
  kind        simulate | compare | sweep | calibrate
  model       the model's name (optional: every scenario names its own)
  scenarios   scenario objects {model, params, interventions, label}; compare: two or more, the first
              the baseline; sweep and calibrate: one, the base scenario
  sweep       {"param": P, "values": [...]}: P a parameter or an intervention field (TYPE.FIELD)
  calibrate   {"param": P, "metric": M, "target": X, "relation": R, "lower": L, "upper": U,
              "probability": Q}: the values of P at which M meets X; relation "eq" (within 1%, the
              default), "le" (at most X) or "ge" (at least X); lower / upper (optional) narrow the
              search within P's bounds; probability (optional, le / ge) asks for the limit to hold
              in that share of the replicates (0.9: in 90% of shifts)
The results JSON has kind and results (one per run), plus differences (compare), sweep, or
calibration (value, achieved, met, note, solutions, share_meeting, ...), and notes. Examples:
docs/requests.md."""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, with a mistake on the command line reported in one line (not usage, then the error)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (`{self.prog} --help` says what is allowed)\n")


def build_parser() -> argparse.ArgumentParser:
    from simqa import __version__

    parser = _ArgumentParser(
        prog="simqa",
        description="Ask simulation models questions in plain language, offline or with any OpenAI-compatible LLM.",
        epilog=(
            "exit codes: 0 done; 2 a mistake in what was given (a bad scenario, value or option): one line "
            "saying what is wrong and what is allowed; 3 a service failed (the LLM endpoint, the run store, "
            "the Chroma server, the Dask cluster): one line saying what to do; 1 a bug in simqa: one line "
            "(SIMQA_DEBUG=1 shows the traceback). When retrieval or the LLM fails, `ask` and `chat` answer "
            "without it and say so in the answer's notes. Every call to a service has a deadline "
            "(SIMQA_CHROMA_TIMEOUT_S, default 15 s, for a Chroma server)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"simqa {__version__}")
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
    plot = ask.add_mutually_exclusive_group()
    plot.add_argument(
        "--plot",
        metavar="PATH",
        default=None,
        help="save the plot (PNG) to PATH, with --json too (default without --json: $SIMQA_HOME/plots/RUN_ID.png)",
    )
    plot.add_argument("--no-plot", action="store_true", help="do not save a plot of the key series")
    ask.add_argument(
        "--data",
        metavar="FILE",
        default=None,
        help="observations to fit the model to, a CSV or JSON records file whose columns are the model's "
        "observables (e.g. day,new_cases); the answer gives the fitted values with 95%% intervals and a "
        "forecast from them",
    )

    chat = sub.add_parser("chat", help="multi-turn conversation", description="Multi-turn conversation.")
    chat.add_argument("--translator", choices=["auto", "llm", "offline"], default="auto", help="default: auto")

    run = sub.add_parser(
        "run",
        help="run a scenario JSON without any LLM",
        description=textwrap.fill(
            "Run a scenario JSON ({model, params, interventions}) or a request JSON "
            "({kind, scenarios, sweep, calibrate}) with no LLM and no retrieval; print results JSON.",
            100,
        ),
        epilog=textwrap.fill(RUN_FILE_RULES, 100) + "\n\n" + REQUEST_FIELDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    runs_list = runs_sub.add_parser(
        "list", help="list recent runs", description="List recent runs, the newest first, one line each."
    )
    runs_list.add_argument("--limit", type=_positive_int, default=20, help="how many (default 20)")
    runs_list.add_argument("--model", default=None, metavar="NAME", help="only the runs of this model")
    runs_show = runs_sub.add_parser(
        "show",
        help="show one run",
        description="Show one stored run: its scenario, metrics, intervals and notes (the series with --series).",
    )
    runs_show.add_argument("run_id", help="a run id or a unique prefix of one")
    runs_show.add_argument("--series", action="store_true", help="print everything stored, the series too, as JSON")
    runs_show.add_argument("--json", action="store_true", help="print the summary as JSON")
    runs_sub.add_parser(
        "repair",
        help="check the run store and repair it (damaged files are moved aside)",
        description=(
            "Check the run store and repair it: every intact run is kept, the damaged file is moved aside "
            "(never deleted), and the report says how many runs were kept and dropped, and when the damage "
            "hides how many were lost (a truncated or emptied file), how many series files belong to no kept run."
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from simqa.settings import Settings

    dask_address, args_list = _global_options(list(sys.argv[1:] if argv is None else argv))
    try:
        settings = Settings.from_env(dask_address=dask_address)
    except SimqaError as exc:  # a malformed variable: one line, as every user mistake
        _error(str(exc))
        return EXIT_USAGE
    if args_list[:1] == ["eval"]:
        return _eval(args_list[1:], settings)
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        if args.command == "ask":
            return _ask(args, settings)
        if args.command == "chat":
            from simqa.chat import run_chat

            return run_chat(args.translator, settings=settings)
        if args.command == "run":
            return _run(args, settings)
        if args.command == "index":
            return _index(args.force)
        if args.command == "runs":
            return _runs(args, settings)
    except (LLMError, StoreError, ClusterError) as exc:
        _error(str(exc))
        return EXIT_SERVICE
    except (SimqaError, MissingDependency) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`simqa run f.json | head`): nothing left to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug, not a user mistake: still one line, the traceback on request
        if settings.debug:
            raise
        _error(
            f"unexpected {type(exc).__name__}: {exc}; this is a bug in simqa: rerun with SIMQA_DEBUG=1 "
            "for the traceback and report it"
        )
        return EXIT_BUG
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


def _global_options(args_list: list[str]) -> tuple[str | None, list[str]]:
    """The `--dask` address given before the command (or None), and the rest of the line.

    The global option comes before the command; `eval` parses the rest of its line itself.
    """
    if args_list[:1] == ["--dask"] and len(args_list) > 2:
        return args_list[1], args_list[2:]
    if args_list and args_list[0].startswith("--dask="):
        return args_list[0].split("=", 1)[1], args_list[1:]
    return None, args_list


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


MAX_ERROR_CHARS = 2000


def _error(message: str) -> None:
    """One line on stderr, however long or many-lined the message it reports."""
    line = " ".join(message.split())
    if len(line) > MAX_ERROR_CHARS:
        line = line[:MAX_ERROR_CHARS] + f"… ({len(line):,} characters)"
    print(f"simqa: error: {line}", file=sys.stderr)


def _eval(argv: list[str], settings: Any) -> int:
    try:
        from evals.cli import main as eval_main
    except ImportError as exc:  # pragma: no cover - evals ships with simqa
        _error(f"the eval suite is not available: {exc}")
        return EXIT_USAGE
    return int(eval_main(argv, settings=settings))


def _ask(args: argparse.Namespace, settings: Any) -> int:
    from rag.paths import make_home
    from simqa.assistant import Assistant

    assistant = Assistant(translator=args.translator, cache=not args.no_cache, settings=settings)
    if args.json:
        answer = assistant.ask(args.question, data=args.data)
        if args.plot:
            answer.plot = _save_plot(answer, Path(args.plot))
        print(answer.model_dump_json(indent=2))
        return 0
    from simqa.render import console, render_answer, with_progress

    with with_progress() as progress:
        answer = assistant.ask(args.question, data=args.data, progress=progress)
    plot_path = None
    if not args.no_plot and answer.full_results:
        if args.plot:
            saved = _save_plot(answer, Path(args.plot))  # the path asked for: a path that cannot be written is an error
            plot_path = Path(saved) if saved else None
        else:
            from simqa.plot import save_plot

            try:
                plot_path = save_plot(
                    answer, make_home(settings.home) / "plots" / f"{answer.full_results[0].run_id}.png"
                )
            except (OSError, StoreError) as exc:  # the answer stands without its picture
                answer.notes.append(f"the plot could not be saved ({getattr(exc, 'strerror', None) or exc})")
    render_answer(console(), answer, plot_path)
    return 0


def _save_plot(answer: Any, path: Path) -> str | None:
    """The plot of the answer saved at `path` (None when it ran nothing); a path that cannot be written is a user error."""
    from simqa.plot import save_plot

    if path.suffix.lower() not in ("", ".png"):
        raise SimqaError(f"--plot saves a PNG: give a path ending in .png, not {path.name!r}")
    try:
        saved = save_plot(answer, path.with_suffix(".png"))
    except OSError as exc:
        raise SimqaError(f"cannot save the plot to {path}: {exc.strerror or exc}") from None
    return str(saved) if saved else None


def _read_json(path: str) -> Any:
    from simqa.json_input import read_json

    return read_json(path)


def run_payload(
    data: Any, replicates: int | None = None, seed: int | None = None, executor: Any = None
) -> dict[str, Any]:
    """Run a scenario or request given as JSON data; the results as JSON-ready data.

    executor: where the experiments run (`simqa.settings.Settings.executor`); by default the engine's.
    """
    from sim.dispatch import run_request
    from sim.scenario import parse_scenario
    from simqa.json_input import check_payload

    if not isinstance(data, dict):
        raise SimqaError(f"expected a JSON object (a scenario or a request), got {type(data).__name__}")
    check_payload(data)
    if "kind" not in data:
        outcome = run_request("simulate", [parse_scenario(data)], replicates=replicates, seed=seed, executor=executor)
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
        executor=executor,
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


def _run(args: argparse.Namespace, settings: Any) -> int:
    payload = run_payload(_read_json(args.file), args.replicates, args.seed, executor=settings.executor())
    if args.no_series:
        for r in payload["results"]:
            r.pop("series", None)
    print(json.dumps(_finite(payload), indent=2, allow_nan=False))
    return 0


def _finite(value: Any) -> Any:
    """The results with a non-finite float (a metric of zero orders, say) as null: the output is valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _index(force: bool) -> int:
    from rag import index_docs

    print(index_docs(force=force))
    return 0


def _runs(args: argparse.Namespace, settings: Any) -> int:
    store = settings.run_store()
    if args.runs_command == "repair":
        print(store.repair())
        return 0
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
    data = shown.model_dump(mode="json")
    if args.series:
        print(json.dumps(data, indent=2, default=str))
        return 0
    if args.json:
        data.pop("series", None)
        print(json.dumps(data, indent=2, default=str))
        return 0
    from simqa.render import console, run_summary

    console().print(run_summary(shown))
    return 0


DOCS_HELP_WIDTH = 98  # what argparse wraps to in a 100-column terminal: the docs do not depend on the reader's


def cli_reference() -> str:
    """The Markdown reference of every command's help, kept in docs/cli.md (a test checks it)."""
    parser = build_parser()
    parts = [
        "# simqa command line",
        "",
        "Generated from the parser by `python -m simqa.cli --write-docs`; a test fails when it is stale.",
        "",
        "```",
        _help(parser),
        "```",
    ]
    for name, sub in _subparsers(parser).items():
        if name == "eval":
            continue
        parts += ["", f"## simqa {name}", "", "```", _help(sub), "```"]
        for action, nested in _subparsers(sub).items():
            parts += ["", f"### simqa {name} {action}", "", "```", _help(nested), "```"]
    try:
        from evals.cli import build_compare_parser, build_relabel_parser
        from evals.cli import build_parser as eval_parser

        parts += ["", "## simqa eval", "", "```", _help(eval_parser()), "```"]
        for action, build in (("relabel", build_relabel_parser), ("compare", build_compare_parser)):
            parts += ["", f"### simqa eval {action}", "", "```", _help(build()), "```"]
    except ImportError:
        pass
    return "\n".join(parts) + "\n"


def _help(parser: argparse.ArgumentParser) -> str:
    """The parser's help wrapped at the docs' width, whatever the terminal."""
    formatter_class = parser.formatter_class
    parser.formatter_class = functools.partial(formatter_class, width=DOCS_HELP_WIDTH)  # type: ignore[call-arg]
    try:
        return parser.format_help().rstrip()
    finally:
        parser.formatter_class = formatter_class


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-docs"]:
        Path("docs/cli.md").write_text(cli_reference(), encoding="utf-8")
        sys.exit(0)
    sys.exit(main())
