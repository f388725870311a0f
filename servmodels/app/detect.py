"""Match a file's columns to an instrument's items, and guess the other columns' roles.

Only names are compared (and, for the role guesses, how many distinct values a text
column has); the page shows every guess in a form the user can change before
anything is analysed.  Nothing here is a statistic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..instrument import Instrument, get_instrument, list_instruments

__all__ = ["match_columns", "guess_roles", "detect", "TEMPLATES"]

#: column templates tried for instruments whose columns are named by score set and item
TEMPLATES = ("{set}{item}", "{set}_{item}", "{set}.{item}", "{set}-{item}", "{set} {item}", "{item}{set}",
             "{item}_{set}")

#: other spellings of the score-set codes in column names (English and Indonesian)
_ALIASES: dict[str, tuple[str, ...]] = {
    "E": ("e", "exp", "expect", "expectation", "h", "harapan", "hrp"),
    "P": ("p", "perc", "perception", "persepsi", "k", "kinerja", "knj"),
    "M": ("m", "min", "minimum"),
    "D": ("d", "des", "desired"),
}
_OUTCOME = ("satisfaction", "overallsatisfaction", "overall", "kepuasan", "kepuasankeseluruhan", "puas")
_ID = ("id", "respondentid", "respondent", "responden", "idresponden", "noresponden", "no", "nomor", "case", "caseid")
#: a text column with this many distinct values or fewer is offered as a group column
MAX_GROUP_LEVELS = 30


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text).lower())


def match_columns(columns: Sequence[str], instrument: Instrument) -> dict[str, Any]:
    """Which column holds each item of each score set.

    Returns
    -------
    dict
        ``column_template``: a template other than the instrument's that names the
        columns (None when the instrument's own fits best); ``sets``: per score-set
        code its ``name`` and ``items``, each ``{"item", "dimension", "key", "column"}``
        where ``key`` is the column's name under the template (the key of a
        ``--map KEY=COLUMN``) and ``column`` the file's column (None: not found);
        ``present``: the sets with at least half their items found; ``found``,
        ``total``: items found and expected over all sets.

    Examples
    --------
    >>> inst = Instrument("mini", {"speed": ["1", "2"]}, scale=(1, 5))
    >>> m = match_columns(["id", "E_1", "E_2", "P_1", "P_2"], inst)
    >>> m["column_template"], [i["column"] for i in m["sets"]["P"]["items"]], m["present"]
    ('{set}_{item}', ['P_1', 'P_2'], ['E', 'P'])
    >>> m = match_columns(["harapan1", "harapan2", "kinerja1", "kinerja2"], inst)
    >>> m["column_template"], [(i["key"], i["column"]) for i in m["sets"]["E"]["items"]]
    (None, [('E1', 'harapan1'), ('E2', 'harapan2')])
    """
    cols = [str(c) for c in columns]
    exact = set(cols)
    own = instrument.column_template
    template = own
    if "{set}" in own:
        def hits(t: str) -> int:
            inst = instrument.with_columns(column_template=t, column_map={})
            return sum(inst.column(s, i) in exact for s in inst.score_sets for i in inst.items)

        scores = {t: hits(t) for t in dict.fromkeys((own, *TEMPLATES))}
        best = max(scores, key=lambda t: (scores[t], t == own))
        if scores[best] > scores[own]:
            template = best
    inst = instrument if template == own else instrument.with_columns(column_template=template, column_map={})
    by_norm: dict[str, str] = {}
    for c in cols:
        by_norm.setdefault(_norm(c), c)
    used: set[str] = set()
    sets: dict[str, Any] = {}
    found = total = 0
    for s in inst.score_sets:
        rows = []
        for item in inst.items:
            key = inst.column(s, item)
            column = key if key in exact else None
            if column is None:
                names = [key]
                if "{set}" in inst.column_template:
                    names += [a + item for a in _ALIASES.get(s, (s.lower(),))]
                    names += [item + a for a in _ALIASES.get(s, (s.lower(),))]
                for n in names:
                    c = by_norm.get(_norm(n))
                    if c is not None and c not in used:
                        column = c
                        break
            if column is not None:
                used.add(column)
                found += 1
            total += 1
            rows.append({"item": item, "dimension": inst.dimension_of(item), "key": key, "column": column})
        sets[s] = {"name": inst.set_name(s), "items": rows, "found": sum(r["column"] is not None for r in rows)}
    present = [s for s, v in sets.items() if v["found"] * 2 >= len(v["items"]) and v["found"]]
    return {"column_template": None if template == own else template, "sets": sets, "present": present,
            "found": found, "total": total}


def guess_roles(frame: pd.DataFrame, used: Sequence[str]) -> dict[str, Any]:
    """Guesses of the outcome, respondent-id and group columns among the columns not ``used`` by items.

    Examples
    --------
    >>> df = pd.DataFrame({"No": [1, 2, 3], "desa": ["a", "b", "a"], "P1": [1, 2, 3], "kepuasan": [3, 4, 2]})
    >>> guess_roles(df, ["P1"])
    {'outcome': 'kepuasan', 'respondent_id': 'No', 'groups': ['desa']}
    """
    rest = [str(c) for c in frame.columns if str(c) not in set(used)]
    outcome = next((c for c in rest if _norm(c) in _OUTCOME or "satisf" in _norm(c)), None)
    rid = next((c for c in rest if c != outcome and (_norm(c) in _ID or _norm(c).endswith("id"))
                and frame[c].is_unique), None)
    groups = []
    for c in rest:
        if c in (outcome, rid):
            continue
        col = frame[c]
        if not pd.api.types.is_numeric_dtype(col) and 2 <= col.nunique(dropna=True) <= MAX_GROUP_LEVELS:
            groups.append(c)
    return {"outcome": outcome, "respondent_id": rid, "groups": groups}


def values_seen(frame: pd.DataFrame, columns: Sequence[str]) -> list[int] | None:
    """Smallest and largest whole-number answer in the item columns (a hint next to the scale; None if none)."""
    cols = [c for c in columns if c in frame.columns]
    if not cols:
        return None
    values = pd.to_numeric(frame[cols].stack(), errors="coerce").dropna()
    values = values[(values % 1) == 0]
    if values.empty:
        return None
    return [int(values.min()), int(values.max())]


def detect(frame: pd.DataFrame) -> dict[str, Any]:
    """The best preset for a file's columns (or ``"custom"``), its column match and the role guesses."""
    columns = [str(c) for c in frame.columns]
    matches = {name: match_columns(columns, get_instrument(name)) for name in list_instruments()}
    best = max(matches, key=lambda n: (matches[n]["found"] / matches[n]["total"], matches[n]["found"]))
    share = matches[best]["found"] / matches[best]["total"]
    chosen = best if share >= 0.5 else "custom"
    used = [r["column"] for m in ([matches[best]] if chosen != "custom" else [])
            for s in m["sets"].values() for r in s["items"] if r["column"]]
    return {"instrument": chosen, "share": share, **guess_roles(frame, used)}
