"""A parser for the lavaan model syntax subset used in factor analysis.

Supported: ``=~`` (loadings), ``~~`` (variances/covariances), ``~`` (latent
regressions), ``~1`` (intercepts/means), modifiers ``1*x`` (fixed value),
``NA*x`` (free), ``a*x`` (label; shared labels mean equality), ``start(v)*x``,
several statements on one line separated by ``;``, continuation lines, and
``#``/``!`` comments.  Errors name the offending line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._exceptions import ModelSpecificationError

__all__ = ["Term", "Statement", "parse_model"]

_OPS = ("=~", "~~", "~")
_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class Term:
    """One right-hand-side term with its modifier."""

    name: str
    fixed: float | None = None  # numeric value the parameter is fixed to
    free: bool = False  # explicit NA*: free even where a default would fix it
    label: str | None = None
    start: float | None = None


@dataclass(frozen=True)
class Statement:
    lhs: str
    op: str  # "=~", "~~", "~", "~1"
    terms: tuple[Term, ...]
    line: int
    text: str


def _strip_comment(line: str) -> str:
    for mark in ("#", "!"):
        pos = line.find(mark)
        if pos >= 0:
            line = line[:pos]
    return line


def _parse_term(raw: str, line_no: int, text: str) -> Term:
    parts = [p.strip() for p in raw.split("*")]
    if any(not p for p in parts):
        raise ModelSpecificationError(f"line {line_no}: empty term in {text.strip()!r}")
    name = parts[-1]
    if not _NAME.match(name):
        raise ModelSpecificationError(f"line {line_no}: {name!r} is not a valid variable name in {text.strip()!r}")
    fixed: float | None = None
    free = False
    label: str | None = None
    start: float | None = None
    for mod in parts[:-1]:
        m = re.fullmatch(r"start\(\s*([^)]+)\s*\)", mod)
        if m:
            try:
                start = float(m.group(1))
            except ValueError:
                raise ModelSpecificationError(f"line {line_no}: bad start value {mod!r}") from None
        elif mod in ("NA", "na"):
            free = True
        elif _NUMBER.match(mod):
            fixed = float(mod)
        elif _NAME.match(mod):
            label = mod
        else:
            raise ModelSpecificationError(f"line {line_no}: cannot read modifier {mod!r} in {text.strip()!r}")
    return Term(name=name, fixed=fixed, free=free, label=label, start=start)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join continuation lines (a line ending in an operator or '+', or starting with '+')."""
    out: list[tuple[int, str]] = []
    for no, raw in enumerate(text.splitlines(), start=1):
        for piece in _strip_comment(raw).split(";"):
            piece = piece.strip()
            if not piece:
                continue
            if out and (out[-1][1].endswith(("+", "=~", "~~", "~", "*")) or piece.startswith("+")):
                out[-1] = (out[-1][0], out[-1][1] + " " + piece)
            else:
                out.append((no, piece))
    return out


def parse_model(text: str) -> list[Statement]:
    """Parse lavaan model syntax into statements.

    Examples
    --------
    >>> [s.op for s in parse_model("f =~ x1 + a*x2 + 1*x3  # comment\\nf ~~ f")]
    ['=~', '~~']
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelSpecificationError("the model syntax is empty")
    statements = []
    for no, line in _logical_lines(text):
        if ":=" in line or "==" in line or re.search(r"(?<![=~])[<>](?!=)", line):
            raise ModelSpecificationError(
                f"line {no}: defined parameters and explicit constraints are not supported; use shared labels ({line!r})"
            )
        op = next((o for o in _OPS if o in line), None)
        if op is None:
            raise ModelSpecificationError(f"line {no}: no operator (=~, ~~, ~, ~1) in {line!r}")
        lhs, rhs = (s.strip() for s in line.split(op, 1))
        if not _NAME.match(lhs):
            raise ModelSpecificationError(f"line {no}: {lhs!r} is not a valid variable name in {line!r}")
        if not rhs:
            raise ModelSpecificationError(f"line {no}: nothing on the right of {op!r} in {line!r}")
        raw_terms = [t.strip() for t in rhs.split("+")]
        if op == "~" and any(t.split("*")[-1].strip() == "1" for t in raw_terms):
            if len(raw_terms) != 1:
                raise ModelSpecificationError(f"line {no}: write intercepts on their own line: {line!r}")
            mods = raw_terms[0].split("*")[:-1]
            term = _parse_term("*".join([*mods, lhs]), no, line)
            statements.append(Statement(lhs, "~1", (term,), no, line))
            continue
        terms = tuple(_parse_term(t, no, line) for t in raw_terms)
        statements.append(Statement(lhs, op, terms, no, line))
    return statements
