"""Declarative description of a SERVQUAL-family questionnaire.

An :class:`Instrument` says which items exist, how they group into dimensions,
which score sets were collected (expectation ``E``, perception ``P``, and for the
zone-of-tolerance three-column format minimum ``M`` and desired ``D``), the
Likert scale range, and how items map to column names.  It holds no data.
"""

from __future__ import annotations

import json
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

#: score-set code -> long name used in result columns and JSON keys
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
    score_sets : sequence of {"E", "P", "M", "D"}
        The score sets collected for every item.
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
    """

    name: str
    dimensions: Mapping[str, tuple[str, ...]]
    scale: tuple[int, int] = (1, 5)
    score_sets: tuple[str, ...] = ("E", "P")
    column_template: str = "{set}{item}"
    column_map: Mapping[str, str] = field(default_factory=dict)
    outcome: str | None = None
    respondent_id: str | None = None
    groups: tuple[str, ...] = ()
    importance: Mapping[str, str] = field(default_factory=dict)
    item_labels: Mapping[str, str] = field(default_factory=dict)
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
            lo, hi = (int(v) for v in self.scale)
        except (TypeError, ValueError):
            raise InstrumentError(f"scale must be two integers, got {self.scale!r}") from None
        if lo >= hi:
            raise InstrumentError(f"scale minimum {lo} must be below maximum {hi}")
        object.__setattr__(self, "scale", (lo, hi))
        sets = tuple(str(s).upper() for s in self.score_sets)
        unknown = [s for s in sets if s not in SCORE_SET_NAMES]
        if unknown or not sets or len(set(sets)) != len(sets):
            raise InstrumentError(
                f"score_sets must be distinct codes among {sorted(SCORE_SET_NAMES)}, got {self.score_sets!r}"
            )
        object.__setattr__(self, "score_sets", sets)
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
        cols = [c for s in sets for c in self.columns(s)]
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            raise InstrumentError(f"column names collide: {', '.join(dup)}")

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
        return replace(self, score_sets=tuple(score_sets))

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
            "dimensions": {k: list(v) for k, v in self.dimensions.items()},
            "column_template": self.column_template,
            "column_map": dict(self.column_map),
            "outcome": self.outcome,
            "respondent_id": self.respondent_id,
            "groups": list(self.groups),
            "importance": dict(self.importance),
            "item_labels": dict(self.item_labels),
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
        }
        unknown = sorted(set(spec) - known)
        if unknown:
            raise InstrumentError(f"unknown instrument field(s): {', '.join(unknown)}")
        if "dimensions" not in spec or not isinstance(spec["dimensions"], Mapping):
            raise InstrumentError("an instrument definition needs a 'dimensions' mapping")
        kwargs = dict(spec)
        kwargs.setdefault("name", "custom")
        for key in ("scale", "score_sets", "groups"):
            if key in kwargs and kwargs[key] is not None:
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
