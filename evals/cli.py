"""`simqa eval ...`: run the eval, relabel or check the labels, compare two runs.

simqa/cli.py dispatches `simqa eval ARGS` to `main(ARGS)`. Exit codes: 0 fine; 1 a quality gate
failed (labels disagree, correct share under --min-correct, a metric dropped); 2 a usage or
input error, reported on one line.
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import SimqaError

USAGE_ERROR = 2
GATE_FAILED = 1


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one clear line and exit 2, as every simqa error
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def default_out_dir(home: Path) -> Path:
    """Where an eval run's log and report go without `--out`: under `home` (the settings' SIMQA_HOME)."""
    return home / "evals" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _floor(text: str) -> tuple[tuple[str, ...], float]:
    """`0.9` (all runs) or `external.yaml=0.9` / `a.yaml,b.yaml=0.95` (the runs of those case files)."""
    files, sep, share = text.rpartition("=")
    try:
        value = float(share)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1 or (sep and not files.strip()):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a share between 0 and 1, alone (0.9) or after case files (external.yaml=0.9)"
        )
    return tuple(f.strip() for f in files.split(",") if f.strip()), value


def build_parser(prog: str = "simqa eval") -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog=prog, description="Score the assistant on labelled cases (JSON log + HTML report).")
    parser.add_argument(
        "--cases", action="append", help="a case file or folder (repeatable); default: the packaged cases"
    )
    parser.add_argument("--translator", choices=("auto", "llm", "offline"), default="offline")
    parser.add_argument("--repeats", type=int, default=1, help="ask each case N times (consistency)")
    parser.add_argument("--concurrency", type=int, default=4, help="cases asked at once (threads)")
    parser.add_argument("--tags", nargs="+", help="only cases with any of these tags (kind, model and id count)")
    parser.add_argument("--out", help="folder for log.json and report.html (default: $SIMQA_HOME/evals/<time>)")
    parser.add_argument(
        "--min-correct",
        action="append",
        type=_floor,
        metavar="[FILE[,FILE...]=]SHARE",
        help=(
            "exit 1 when the share of correct runs is lower; with FILE=, only the runs of that case file "
            "(several files joined by commas are pooled); repeatable"
        ),
    )
    parser.add_argument("--cache-dir", help="on-disk cache of LLM responses, passed to the translator")
    parser.add_argument("--prices", help="price table YAML {model: {prompt_per_million, completion_per_million}}")
    parser.add_argument("--retrieval-cases", help="retrieval cases passed to rag.evaluate_retrieval")
    parser.add_argument("--no-retrieval", action="store_true", help="do not score retrieval (recall@k, MRR)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def build_relabel_parser(prog: str = "simqa eval relabel") -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog=prog, description="Compute the cases' expected metric values by running the engine.")
    parser.add_argument(
        "--cases", action="append", help="a case file or folder (repeatable); default: the packaged cases"
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when stored labels disagree")
    parser.add_argument("--only", nargs="+", help="only these case ids")
    parser.add_argument("--workers", type=int, default=1, help="cases labelled at once (threads)")
    return parser


def build_compare_parser(prog: str = "simqa eval compare") -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog=prog, description="What got better or worse between two eval runs.")
    parser.add_argument("run_a", help="the earlier run: its folder or log.json")
    parser.add_argument("run_b", help="the later run: its folder or log.json")
    parser.add_argument("--metric", default="case_correct", help="a higher-is-better metric of the logs")
    parser.add_argument("--max-drop", type=float, default=0.0, help="exit 1 when the metric drops by more than this")
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `eval` on a parent CLI's subparsers; its handler is `main` on the remaining argv."""
    parser = subparsers.add_parser("eval", help="offline evaluation: run, relabel, compare", add_help=False)
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    parser.set_defaults(handler=lambda ns: main(ns.argv))
    return parser


def _assistant_factory(translator: str, cache_dir: str | None, settings: Any) -> Any:
    def build() -> Any:
        from simqa import Assistant

        # Eval runs are stored, so `simqa runs show` finds every run an eval answer cites, but not
        # offered to retrieval: they must not become "similar past runs" for later questions.
        return Assistant(
            translator=translator,  # type: ignore[arg-type]
            llm_cache_dir=cache_dir,
            index_runs=False,
            settings=settings,
        )

    return build


def _run(argv: list[str], settings: Any) -> int:
    from rich.console import Console

    from evals.dataset import load_cases
    from evals.report import print_summary
    from evals.runner import LOG_FILE, REPORT_FILE, correct_share, run_eval

    args = build_parser().parse_args(argv)
    if args.repeats < 1 or args.concurrency < 1:
        raise _UsageError("simqa eval: --repeats and --concurrency must be at least 1")
    cases = load_cases(args.cases)
    out = Path(args.out) if args.out else default_out_dir(settings.home)
    log = run_eval(
        cases,
        _assistant_factory(args.translator, args.cache_dir, settings),
        repeats=args.repeats,
        concurrency=args.concurrency,
        tags=args.tags,
        out_dir=out,
        cache_dir=args.cache_dir,
        progress=not args.no_progress,
        translator=args.translator,
        price_table=args.prices or settings.price_table,
        retrieval_path=args.retrieval_cases,
        with_retrieval=not args.no_retrieval,
    )
    if not log.results:
        if log.skipped:
            raise _UsageError(
                f"simqa eval: every selected case was skipped: {'; '.join(sorted(set(log.skipped.values())))}"
            )
        raise _UsageError(f"simqa eval: no cases match the tags {args.tags}")
    console = Console()
    if not console.is_terminal and not settings.columns:
        console = Console(width=140)  # a log file or CI: room for the tables' names and columns
    print_summary(log, console)
    console.print(f"log: {out / LOG_FILE}\nreport: {out / REPORT_FILE}")
    failed = False
    for files, floor in args.min_correct or []:
        try:
            correct = correct_share(log, files)
        except ValueError as exc:
            raise _UsageError(f"simqa eval: --min-correct: {exc}") from None
        where = f" on {', '.join(files)}" if files else ""
        if correct is None or correct < floor:
            shown = "n/a" if correct is None else f"{correct:.3f}"
            print(f"simqa eval: case_correct{where} {shown} is under --min-correct {floor:g}", file=sys.stderr)
            failed = True
    return GATE_FAILED if failed else 0


def _relabel(argv: list[str]) -> int:
    from evals.labels import relabel

    args = build_relabel_parser().parse_args(argv)
    report = relabel(args.cases, check=args.check, workers=args.workers, only=args.only)
    print(report.summary())
    return 0 if report.ok else GATE_FAILED


def _compare(argv: list[str]) -> int:
    from evals.runner import compare_runs

    args = build_compare_parser().parse_args(argv)
    comparison = compare_runs(args.run_a, args.run_b, metric=args.metric, max_drop=args.max_drop)
    print(comparison.summary())
    return comparison.exit_code


def main(argv: list[str] | None = None, settings: Any = None) -> int:
    """`simqa eval [relabel|compare] ...` with the arguments after `eval`; `settings` as the CLI
    resolved them (`simqa.settings.Settings`), by default from the environment."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        build_parser().print_help()
        print(
            "\nsubcommands: simqa eval relabel [--check] | simqa eval compare RUN_A RUN_B [--metric M] [--max-drop X]"
        )
        return 0
    try:
        if argv and argv[0] == "relabel":
            return _relabel(argv[1:])
        if argv and argv[0] == "compare":
            return _compare(argv[1:])
        if settings is None:
            from simqa.settings import Settings

            settings = Settings.from_env()
        return _run(argv, settings)
    except SystemExit as exc:  # --help inside a subcommand
        return int(exc.code or 0) if isinstance(exc.code, int) else 0
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return USAGE_ERROR
    except (ValueError, OSError, SimqaError) as exc:
        print(f"simqa eval: {exc}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
