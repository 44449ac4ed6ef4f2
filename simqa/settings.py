"""simqa's settings: read from the environment once, at the edge (the CLI, or `Assistant(settings=...)`).

This is the one module of `simqa` and `evals` that reads `os.environ`. The variable names are
those of the architecture doc: `SIMQA_HOME` (default `~/.simqa`), the LLM's `OPENAI_API_KEY`,
`SIMQA_LLM_BASE_URL`, `SIMQA_LLM_MODEL` and its deadlines (`simqa.llm_client.LLMConfig.from_env`),
`SIMQA_DASK_ADDRESS` (the CLI's `--dask` overrides it), `SIMQA_WORKERS`, `SIMQA_PRICE_TABLE` (the
eval's cost table), `SIMQA_DEBUG` and `COLUMNS`. The retrieval layer (`rag`) sits below `simqa` and reads its
own variables (`SIMQA_CHROMA_URL`, `SIMQA_EMBEDDINGS_URL`, ...) through `rag.paths` and
`rag.vectorstore`; the home is resolved by the same rule (`rag.paths.resolve_home`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rag.paths import resolve_home
from sim.errors import SimqaError
from simqa.llm_client import LLMConfig

WORKERS_ENV = "SIMQA_WORKERS"
DASK_ADDRESS_ENV = "SIMQA_DASK_ADDRESS"


class Settings(BaseModel):
    """Everything simqa takes from its environment, resolved once."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    home: Path = Field(default_factory=lambda: resolve_home(None))  # runs, indexes, plots, eval logs
    llm: LLMConfig = Field(default_factory=LLMConfig)  # not `configured` unless a key or a base URL is set
    dask_address: str | None = None  # compares, sweeps and calibrations run there when set
    workers: int = Field(1, ge=1)  # a local process pool when more than one and no Dask address
    price_table: str | None = None  # the eval's table of LLM prices per million tokens
    debug: bool = False  # a bug shows its traceback
    columns: int | None = None  # COLUMNS: the terminal width the user set, which reports keep

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dask_address: str | None = None) -> Settings:
        """The settings the environment describes; `dask_address` (the CLI's `--dask`) wins over it."""
        env = os.environ if env is None else env
        return cls(
            home=resolve_home(env.get("SIMQA_HOME")),
            llm=LLMConfig.from_env(env),
            dask_address=(dask_address or env.get(DASK_ADDRESS_ENV, "")).strip() or None,
            workers=_workers(env.get(WORKERS_ENV, "")),
            price_table=env.get("SIMQA_PRICE_TABLE") or None,
            debug=bool(env.get("SIMQA_DEBUG")),
            columns=int(env["COLUMNS"]) if env.get("COLUMNS", "").strip().isdigit() else None,
        )

    def executor(self) -> Any:
        """Where experiments run: the Dask cluster, a local pool, or this process (kept per address / size)."""
        from sim.executors import executor_for

        return executor_for(self.dask_address, self.workers)

    def run_store(self) -> Any:
        """The run store under `home`."""
        from rag.runstore import DB_NAME, RunStore

        return RunStore(self.home / DB_NAME)


def _workers(raw: str) -> int:
    raw = raw.strip()
    if not raw:
        return 1
    try:
        workers = int(raw)
    except ValueError:
        raise SimqaError(f"{WORKERS_ENV} must be a whole number of processes, got {raw!r}") from None
    if workers < 1:
        raise SimqaError(f"{WORKERS_ENV} must be at least 1, got {workers}")
    return workers
