"""Declarative description of a SERVQUAL-family questionnaire.

An :class:`Instrument` says which items exist, how they group into dimensions,
which score sets were collected (expectation ``E``, perception ``P``, and for the
zone-of-tolerance three-column format minimum ``M`` and desired ``D``; or any
named set of a questionnaire answered once, e.g. ``score``), the Likert scale
range, which items are reverse-keyed, and how items map to column names.  It
holds no data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._exceptions import InstrumentError

__all__ = [
    "Instrument",
    "SCORE_SET_NAMES",
    "get_instrument",
    "list_instruments",
]

#: the SERVQUAL family's score-set codes -> long name used in result columns and JSON keys;
#: any other set (a questionnaire answered once) is named by its own code
SCORE_SET_NAMES: dict[str, str] = {
    "E": "expectation",
    "P": "perception",
    "M": "minimum",
    "D": "desired",
}

# Gap definitions (minuend, subtrahend).  "gap" is the SERVQUAL score P - E
# (Parasuraman, Zeithaml & Berry 1988); "adequacy" (P - M, measure of service
# adequacy) and "superiority" (P - D, measure of service superiority) are the
# zone-of-tolerance gaps of Parasuraman, Zeithaml & Berry (1994).
_GAP_DEFINITIONS: dict[str, tuple[str, str]] = {
    "gap": ("P", "E"),
    "adequacy": ("P", "M"),
    "superiority": ("P", "D"),
}

#: names a score set may not take: they label other rows or keys of the results
_RESERVED_SET_NAMES = frozenset(_GAP_DEFINITIONS) | {"overall", "servqual", "servperf", "weighted_gap",
                                                     "servqual_weighted", "item", "dimension"}
_SET_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _set_code(code: Any) -> str:
    """A score-set code as stored: the SERVQUAL codes upper-cased (``p`` -> ``P``), others as given."""
    text = str(code).strip()
    return text.upper() if text.upper() in SCORE_SET_NAMES else text


def _as_items(values: Iterable[Any], dimension: str) -> tuple[str, ...]:
    items = tuple(str(v).strip() for v in values)
    if not items:
        raise InstrumentError(f"dimension {dimension!r} has no items")
    return items


@dataclass(frozen=True)
class Instrument:
    """A questionnaire layout: dimensions of items, score sets, scale, column names.

    Parameters
    ----------
    name : str
        Short identifier, e.g. ``"servqual25"``.
    dimensions : mapping of str to sequence of str
        Ordered mapping from dimension name to item identifiers.  Item identifiers
        are strings (``"1"``, ``"2"``, ...) and must be unique across dimensions.
    scale : (int, int)
        Smallest and largest admissible Likert value.
    score_sets : sequence of str, or mapping of str to str
        The score sets collected for every item: the SERVQUAL codes ``"E"``,
        ``"P"``, ``"M"``, ``"D"`` (results name them expectation, perception,
        minimum, desired), or any other code for a questionnaire answered once
        (e.g. ``["S"]`` with ``column_template="{item}"``); results are keyed by
        the set's name.  A mapping ``{"S": "score"}`` gives a code its name.
    reverse : sequence of str
        Reverse-keyed items (identifiers, or column names of any score set):
        every analysis sees ``min + max - x`` for them, and every result records
        them (``reverse_keyed``).
    column_template : str
        How an item's column is named: ``"{set}{item}"`` gives ``E1``, ``P1``, ...
    column_map : mapping of str to str
        Overrides for individual columns: default name -> name in the file.
    outcome, respondent_id : str or None
        Optional column names of overall satisfaction and a respondent identifier.
    groups : sequence of str
        Optional grouping columns (village, gender, ...).
    importance : mapping of str to str
        Optional per-dimension importance-point columns for weighted SERVQUAL.
    item_labels : mapping of str to str
        Optional question wording per item.
    translations : mapping of str to mapping of str to str
        Dimension (and score-set) names in other languages, by language code:
        ``{"id": {"tangibles": "bukti fisik", ...}}``; reports use them.
    description : str
        Free text (source of the layout).

    Examples
    --------
    >>> from servmodels import get_instrument
    >>> inst = get_instrument("servqual25")
    >>> inst.dimension_names
    ('tangibles', 'reliability', 'responsiveness', 'assurance', 'empathy')
    >>> inst.columns("P")[:3]
    ('P1', 'P2', 'P3')
    >>> inst.with_scale(1, 5).scale
    (1, 5)
    >>> big5 = Instrument("agree", {"agreeableness": ["A1", "A2", "A3"]}, scale=(1, 6),
    ...                   score_sets=["S"], column_template="{item}", reverse=["A1"])
    >>> big5.columns("S"), big5.set_name("S"), big5.default_scores()
    (('A1', 'A2', 'A3'), 'S', 'S')
    """

    name: str
    dimensions: Mapping[str, tuple[str, ...]]
    scale: tuple[int, int] = (1, 5)
    score_sets: tuple[str, ...] = ("E", "P")
    set_names: Mapping[str, str] = field(default_factory=dict)
    reverse: tuple[str, ...] = ()
    column_template: str = "{set}{item}"
    column_map: Mapping[str, str] = field(default_factory=dict)
    outcome: str | None = None
    respondent_id: str | None = None
    groups: tuple[str, ...] = ()
    importance: Mapping[str, str] = field(default_factory=dict)
    item_labels: Mapping[str, str] = field(default_factory=dict)
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        # normalise containers so equal definitions compare equal and nothing is shared
        dims = {str(k): _as_items(v, str(k)) for k, v in dict(self.dimensions).items()}
        if not dims:
            raise InstrumentError(f"instrument {self.name!r} has no dimensions")
        seen: dict[str, str] = {}
        for dim, items in dims.items():
            for item in items:
                if item in seen:
                    raise InstrumentError(
                        f"item {item!r} appears in both {seen[item]!r} and {dim!r}"
                    )
                seen[item] = dim
        object.__setattr__(self, "dimensions", dims)
        try:
            lo_f, hi_f = (float(v) for v in self.scale)
            if not (lo_f.is_integer() and hi_f.is_integer()) or isinstance(self.scale, str):
                raise ValueError
            lo, hi = int(lo_f), int(hi_f)
        except (TypeError, ValueError):
            raise InstrumentError(f"scale must be two integers (minimum, maximum), got {self.scale!r}") from None
        if lo >= hi:
            raise InstrumentError(f"scale minimum {lo} must be below maximum {hi}")
        object.__setattr__(self, "scale", (lo, hi))
        raw_sets = self.score_sets
        names = {_set_code(k): str(v).strip() for k, v in dict(self.set_names).items()}
        if isinstance(raw_sets, Mapping):  # {"S": "score"}: codes with their names
            names.update({_set_code(k): str(v).strip() for k, v in raw_sets.items()})
            raw_sets = tuple(raw_sets)
        elif isinstance(raw_sets, str):
            raw_sets = (raw_sets,)
        sets = tuple(_set_code(s) for s in raw_sets)
        bad = [s for s in sets if not _SET_CODE.match(s) or s.lower() in _RESERVED_SET_NAMES]
        if bad or not sets or len(set(sets)) != len(sets):
            raise InstrumentError(
                "score_sets must be distinct codes that start with a letter (letters, digits, _), "
                f"other than {', '.join(sorted(_RESERVED_SET_NAMES))}; got {list(raw_sets)!r}"
            )
        object.__setattr__(self, "score_sets", sets)
        unknown_named = sorted(set(names) - set(sets))
        if unknown_named:
            raise InstrumentError(f"set_names names score set(s) {', '.join(unknown_named)}, which are not among score_sets {', '.join(sets)}")
        long = [names.get(s) or SCORE_SET_NAMES.get(s, s) for s in sets]
        clash = sorted({n for n in long if long.count(n) > 1 or n.lower() in _RESERVED_SET_NAMES})
        if clash:
            raise InstrumentError(f"score-set name(s) {', '.join(clash)} are used twice or reserved")
        object.__setattr__(self, "set_names", {s: n for s, n in names.items() if n != SCORE_SET_NAMES.get(s, s)})
        if "{item}" not in self.column_template:
            raise InstrumentError("column_template must contain '{item}'")
        try:
            self.column_template.format(set="P", item="1")
        except (IndexError, KeyError, ValueError) as exc:
            # str.format errors: "{0}", "{nope}", unbalanced braces
            raise InstrumentError(
                f"column_template {self.column_template!r} is not a valid template "
                f"(only {{set}} and {{item}} may appear in braces): {exc}"
            ) from None
        object.__setattr__(self, "column_map", {str(k): str(v) for k, v in dict(self.column_map).items()})
        object.__setattr__(self, "groups", tuple(str(g) for g in self.groups))
        imp = {str(k): str(v) for k, v in dict(self.importance).items()}
        if imp and set(imp) != set(dims):
            raise InstrumentError(
                "importance columns must be given for every dimension "
                f"({', '.join(dims)}), got {', '.join(imp) or 'none'}"
            )
        object.__setattr__(self, "importance", imp)
        object.__setattr__(self, "item_labels", {str(k): str(v) for k, v in dict(self.item_labels).items()})
        try:
            tr = {str(lang): {str(k): str(v) for k, v in dict(names).items()} for lang, names in dict(self.translations).items()}
        except (TypeError, ValueError):
            raise InstrumentError("translations must map a language code to a mapping of names, "
                                  "e.g. {'id': {'tangibles': 'bukti fisik'}}") from None
        object.__setattr__(self, "translations", tr)
        cols = [c for s in sets for c in self.columns(s)]
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            raise InstrumentError(f"column names collide: {', '.join(dup)}")
        object.__setattr__(self, "reverse", self._resolve_reverse(self.reverse))

    def _resolve_reverse(self, given: Iterable[Any] | str | None) -> tuple[str, ...]:
        """Item identifiers of the reverse-keyed items (given as identifiers or column names)."""
        if given is None:
            return ()
        if isinstance(given, str):
            given = [given]
        by_column = {self.column(s, i): i for s in self.score_sets for i in self.items}
        out: list[str] = []
        unknown: list[str] = []
        for key in (k.strip() for raw in given for k in str(raw).split(",")):
            if not key:
                continue
            item = key if key in self.items else by_column.get(key)
            if item is None:
                unknown.append(key)
            elif item not in out:
                out.append(item)
        if unknown:
            shown = ", ".join(map(repr, unknown[:5])) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            raise InstrumentError(
                f"reverse names {shown}, which {'is' if len(unknown) == 1 else 'are'} neither an item nor an item column "
                f"of instrument {self.name!r} (items {', '.join(self.items[:5])}{', ...' if self.n_items > 5 else ''})"
            )
        order = {i: k for k, i in enumerate(self.items)}
        return tuple(sorted(out, key=order.__getitem__))

    # ------------------------------------------------------------------ queries
    @property
    def dimension_names(self) -> tuple[str, ...]:
        """Dimension names in questionnaire order."""
        return tuple(self.dimensions)

    @property
    def items(self) -> tuple[str, ...]:
        """All item identifiers in questionnaire order."""
        return tuple(i for items in self.dimensions.values() for i in items)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def dimension_of(self, item: str) -> str:
        """Name of the dimension an item belongs to."""
        for dim, items in self.dimensions.items():
            if str(item) in items:
                return dim
        raise InstrumentError(f"instrument {self.name!r} has no item {item!r}")

    def label(self, name: str, lang: str = "en") -> str:
        """A dimension's (or score set's) name in a language, from ``translations``; the name itself otherwise."""
        return self.translations.get(lang, {}).get(name, name)

    def set_name(self, score_set: str) -> str:
        """Name of a score set in results: ``"perception"`` for ``P``, a custom set's own name or code."""
        return self.set_names.get(score_set) or SCORE_SET_NAMES.get(score_set, score_set)

    def set_code(self, name: str) -> str | None:
        """Inverse of :meth:`set_name` (also accepts a code, any case for E/P/M/D); None if unknown."""
        code = _set_code(name)
        if code in self.score_sets:
            return code
        for s in self.score_sets:
            if self.set_name(s).lower() == str(name).strip().lower():
                return s
        return None

    def default_scores(self) -> str:
        """The score set analysed when none is named: the only set, else perception ``P``.

        Raises
        ------
        ParameterError
            When there are several sets and none is ``P``.
        """
        if len(self.score_sets) == 1:
            return self.score_sets[0]
        if "P" in self.score_sets:
            return "P"
        from ._exceptions import ParameterError

        raise ParameterError(f"scores: instrument {self.name!r} has score sets {', '.join(self.score_sets)}; name one")

    def reverse_columns(self, score_set: str) -> tuple[str, ...]:
        """Column names of the reverse-keyed items in one score set."""
        return tuple(self.column(score_set, i) for i in self.reverse)

    def column(self, score_set: str, item: str) -> str:
        """Column name of one item in one score set (after ``column_map``)."""
        default = self.column_template.format(set=score_set, item=item)
        return self.column_map.get(default, default)

    def columns(self, score_set: str) -> tuple[str, ...]:
        """Column names of all items in one score set, in questionnaire order."""
        return tuple(self.column(score_set, i) for i in self.items)

    @property
    def gaps(self) -> dict[str, tuple[str, str]]:
        """Gap scores defined by the collected sets: name -> (minuend, subtrahend)."""
        return {
            name: (a, b)
            for name, (a, b) in _GAP_DEFINITIONS.items()
            if a in self.score_sets and b in self.score_sets
        }

    # ------------------------------------------------------------------ variants
    def with_scale(self, minimum: int, maximum: int) -> Instrument:
        """Copy with another Likert range."""
        return replace(self, scale=(minimum, maximum))

    def with_score_sets(self, score_sets: Iterable[str]) -> Instrument:
        """Copy restricted to (or extended by) the given score sets."""
        sets = tuple(_set_code(s) for s in score_sets)
        new = [s for s in sets if s not in self.score_sets]
        if new and "{set}" not in self.column_template:
            raise InstrumentError(
                f"instrument {self.name!r} has no score set {', '.join(new)} (its sets: {', '.join(self.score_sets)}); "
                + ("gap scores need score sets E and P" if {"E", "P"} & set(new) else "name one of its sets")
            )
        return replace(self, score_sets=sets, set_names={k: v for k, v in self.set_names.items() if k in sets})

    def with_reverse(self, items: Iterable[str] | str) -> Instrument:
        """Copy with these reverse-keyed items (identifiers or column names) added."""
        extra = self._resolve_reverse(items)
        return replace(self, reverse=self.reverse + tuple(i for i in extra if i not in self.reverse))

    def with_columns(self, **kwargs: Any) -> Instrument:
        """Copy with other column settings (``column_map``, ``outcome``, ``respondent_id``, ``groups``, ...)."""
        return replace(self, **kwargs)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-safe description; ``Instrument.from_dict(inst.to_dict()) == inst``."""
        return {
            "name": self.name,
            "description": self.description,
            "scale": list(self.scale),
            "score_sets": list(self.score_sets),
            "set_names": dict(self.set_names),
            "reverse": list(self.reverse),
            "dimensions": {k: list(v) for k, v in self.dimensions.items()},
            "column_template": self.column_template,
            "column_map": dict(self.column_map),
            "outcome": self.outcome,
            "respondent_id": self.respondent_id,
            "groups": list(self.groups),
            "importance": dict(self.importance),
            "item_labels": dict(self.item_labels),
            "translations": {k: dict(v) for k, v in self.translations.items()},
        }

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Instrument:
        """Build an instrument from a mapping (as read from YAML or JSON).

        Examples
        --------
        >>> inst = Instrument.from_dict({"name": "mini", "scale": [1, 5],
        ...     "dimensions": {"speed": [1, 2], "care": [3, 4]}, "score_sets": ["P"]})
        >>> inst.columns("P")
        ('P1', 'P2', 'P3', 'P4')
        """
        if not isinstance(spec, Mapping):
            raise InstrumentError("an instrument definition must be a mapping")
        known = {
            "name", "description", "scale", "score_sets", "dimensions", "column_template",
            "column_map", "outcome", "respondent_id", "groups", "importance", "item_labels",
            "set_names", "reverse", "translations",
        }
        unknown = sorted(set(spec) - known)
        if unknown:
            raise InstrumentError(f"unknown instrument field(s): {', '.join(unknown)}")
        if "dimensions" not in spec or not isinstance(spec["dimensions"], Mapping):
            raise InstrumentError("an instrument definition needs a 'dimensions' mapping")
        kwargs = dict(spec)
        kwargs.setdefault("name", "custom")
        for key in ("scale", "score_sets", "groups", "reverse"):
            if key in kwargs and kwargs[key] is not None and not (key == "score_sets" and isinstance(kwargs[key], Mapping)):
                if isinstance(kwargs[key], str):
                    kwargs[key] = [kwargs[key]]
                kwargs[key] = tuple(kwargs[key])
        kwargs = {k: v for k, v in kwargs.items() if v is not None or k in ("outcome", "respondent_id")}
        return cls(**kwargs)

    @classmethod
    def from_file(cls, path: str | Path) -> Instrument:
        """Read an instrument from a ``.yaml``/``.yml`` or ``.json`` file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InstrumentError(f"cannot read instrument file {str(path)!r}: {exc.strerror}") from None
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                import yaml

                spec = yaml.safe_load(text)
            else:
                spec = json.loads(text)
        except Exception as exc:  # yaml.YAMLError / json.JSONDecodeError
            raise InstrumentError(f"cannot parse instrument file {str(path)!r}: {exc}") from None
        spec = dict(spec or {})
        spec.setdefault("name", path.stem)
        return cls.from_dict(spec)


def _range(a: int, b: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(a, b + 1))


#: the SERVQUAL dimensions in Bahasa Indonesia, as the seed study names them
_SERVQUAL_ID = {"tangibles": "bukti fisik", "reliability": "keandalan", "responsiveness": "daya tanggap",
                "assurance": "jaminan", "empathy": "empati"}

_PRESETS: dict[str, Instrument] = {
    "servqual25": Instrument(
        name="servqual25",
        description=(
            "25-item SERVQUAL layout of Sumino & Sutrischastini (Polsek Bawang, 2016): "
            "tangibles 1-5, reliability 6-10, responsiveness 11-15, assurance 16-20, "
            "empathy 21-25; expectation and perception answered on a 1-4 scale."
        ),
        dimensions={
            "tangibles": _range(1, 5),
            "reliability": _range(6, 10),
            "responsiveness": _range(11, 15),
            "assurance": _range(16, 20),
            "empathy": _range(21, 25),
        },
        scale=(1, 4),
        score_sets=("E", "P"),
        translations={"id": _SERVQUAL_ID},
    ),
    "servqual22": Instrument(
        name="servqual22",
        description=(
            "22-item SERVQUAL of Parasuraman, Berry & Zeithaml (1991): tangibles 1-4, "
            "reliability 5-9, responsiveness 10-13, assurance 14-17, empathy 18-22; "
            "7-point scale."
        ),
        dimensions={
            "tangibles": _range(1, 4),
            "reliability": _range(5, 9),
            "responsiveness": _range(10, 13),
            "assurance": _range(14, 17),
            "empathy": _range(18, 22),
        },
        scale=(1, 7),
        score_sets=("E", "P"),
        translations={"id": _SERVQUAL_ID},
    ),
}


_PRESETS["ikm9"] = Instrument(
    name="ikm9",
    description="Indeks Kepuasan Masyarakat (PermenPANRB 14/2017): 9 unsur layanan U1-U9, skala 1-4",
    dimensions={f"U{k}": (str(k),) for k in range(1, 10)},
    scale=(1, 4),
    score_sets=("P",),
    column_template="U{item}",
    item_labels={
        "1": "Persyaratan", "2": "Sistem, mekanisme dan prosedur", "3": "Waktu penyelesaian", "4": "Biaya/tarif",
        "5": "Produk spesifikasi jenis pelayanan", "6": "Kompetensi pelaksana", "7": "Perilaku pelaksana",
        "8": "Penanganan pengaduan, saran dan masukan", "9": "Sarana dan prasarana",
    },
)


def list_instruments() -> tuple[str, ...]:
    """Names of the bundled instrument presets."""
    return tuple(_PRESETS)


def get_instrument(spec: str | Path | Mapping[str, Any] | Instrument) -> Instrument:
    """Resolve a preset name, a YAML/JSON file path, a mapping or an Instrument.

    Examples
    --------
    >>> get_instrument("servqual22").dimensions["assurance"]
    ('14', '15', '16', '17')
    """
    if isinstance(spec, Instrument):
        return spec
    if isinstance(spec, Mapping):
        return Instrument.from_dict(spec)
    key = str(spec)
    if key in _PRESETS:
        return _PRESETS[key]
    path = Path(key)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        return Instrument.from_file(path)
    raise InstrumentError(
        f"unknown instrument {key!r}; presets are {', '.join(_PRESETS)}, or give a YAML/JSON file"
    )
