"""Prompt templates: plain text files in this package with named `$slot`s and a version line.

The first line of every template is `# version: <n>` (raise it when the wording changes, so logs
and eval reports say which prompt produced an answer); the rest is a `string.Template`. A literal
dollar sign is written `$$`. Values are substituted once and never re-read as template text, so
retrieved text that happens to contain `$population` stays as it is.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent
_VERSION_LINE = re.compile(r"^#\s*version:\s*(\S+)\s*$")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    text: str  # the template without its version line

    @property
    def slots(self) -> frozenset[str]:
        """The names of the slots this template fills."""
        return frozenset(string.Template(self.text).get_identifiers())

    def render(self, **values: object) -> str:
        """The template with every slot filled; a missing or unknown slot is an error naming it."""
        missing = sorted(self.slots - values.keys())
        unknown = sorted(values.keys() - self.slots)
        if missing or unknown:
            raise ValueError(
                f"prompt {self.name!r} (version {self.version}): "
                + (f"missing slots {missing}" if missing else "")
                + ("; " if missing and unknown else "")
                + (f"unknown slots {unknown}" if unknown else "")
                + f"; its slots are {sorted(self.slots)}"
            )
        return string.Template(self.text).substitute({k: str(v) for k, v in values.items()})


@cache
def load(name: str) -> Prompt:
    """The template `prompts/<name>.txt`."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"prompt names are lower-case words (a-z, 0-9, _), got {name!r}")
    path = PROMPTS_DIR / f"{name}.txt"
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = sorted(p.stem for p in PROMPTS_DIR.glob("*.txt"))
        raise ValueError(f"no prompt named {name!r}; known prompts: {', '.join(known)}") from None
    first, _, rest = raw.partition("\n")
    match = _VERSION_LINE.match(first)
    if match is None:
        raise ValueError(f"prompt {name!r} must start with a '# version: <n>' line")
    return Prompt(name=name, version=match.group(1), text=rest)
