"""What the page chose, as the arguments of ``servmodels report`` and as Python code.

:class:`Settings` is parsed from the page's JSON (or the form fields of
``POST /api/report``) and checked field by field.  :func:`command_args` turns it into
the argument list of ``servmodels report``: the app parses that list with the CLI's
own parser and runs the CLI's own reading and analysis on it, and shows the same list
(with the user's file name instead of the private copy) as the command to reproduce
the results, so page, downloads and command cannot disagree.  :func:`python_code`
writes the equivalent script.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..analysis import ANALYSES, OPTIONAL_ANALYSES
from ..instrument import Instrument, get_instrument, list_instruments
from .workspace import AppError

__all__ = ["Settings", "command_args", "command_line", "python_code", "custom_instrument", "REPORT_FORMATS",
           "REPORT_LANGS", "OUT_FOLDER"]

#: what the app writes for every run (the command it shows writes the same)
REPORT_FORMATS = ("html", "docx", "md", "tex")
REPORT_LANGS = ("en", "id")
OUT_FOLDER = "servmodels-report"
ESTIMATORS = ("ML", "MLR", "WLSMV")
#: largest resamples and seed accepted from the page (as the CLI's bounds)
_MAX_COUNT = 2**31 - 1


def _text(obj: Mapping[str, Any], key: str, *, allow_empty: bool = False) -> str | None:
    value = obj.get(key)
    if value is None or (value == "" and not allow_empty):
        return None
    if not isinstance(value, str):
        raise AppError(f"{key}: expected text, got {type(value).__name__}")
    value = value.strip()
    if any(not ch.isprintable() for ch in value) and key != "custom":
        raise AppError(f"{key}: contains control characters")
    return value or None


def _int(obj: Mapping[str, Any], key: str, low: int, high: int = _MAX_COUNT) -> int | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise AppError(f"{key}: expected a whole number, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise AppError(f"{key}: expected a whole number, got {str(value)[:40]!r}") from None
    if not low <= number <= high:
        raise AppError(f"{key}: must be between {low} and {high}, got {number}")
    return number


def _names(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise AppError(f"{key}: expected a list of names")
    out = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
    if any(not ch.isprintable() for v in out for ch in v):
        raise AppError(f"{key}: contains control characters")
    return out


@dataclass(frozen=True)
class Settings:
    """Everything the page decides; the defaults are those of ``servmodels report``.

    ``instrument`` is a preset name or ``"custom"`` (then ``custom`` holds its
    definition and ``custom_sets`` its score sets).  ``column_template`` and
    ``column_map`` are ``--columns`` and ``--map``; ``score_sets`` restricts a preset
    (a file with perception answers only); ``drop_rows`` are data rows (from 1) the
    user chose to leave out.
    """

    instrument: str = "servqual25"
    custom: str | None = None
    custom_sets: str = "EP"
    score_sets: tuple[str, ...] = ()
    scale: tuple[int, int] | None = None
    column_template: str | None = None
    column_map: Mapping[str, str] = field(default_factory=dict)
    reverse: tuple[str, ...] = ()
    outcome: str | None = None
    respondent_id: str | None = None
    groups: tuple[str, ...] = ()
    nan_policy: str = "raise"
    sheet: str | None = None
    drop_rows: tuple[int, ...] = ()
    analyses: tuple[str, ...] = ()
    estimator: str = "ML"
    seed: int = 0
    n_resamples: int | None = None
    title: str | None = None

    @classmethod
    def from_json(cls, obj: Any) -> Settings:
        """Check and convert the page's settings; a bad field is a 422 naming it."""
        if obj is None:
            obj = {}
        if not isinstance(obj, Mapping):
            raise AppError("settings: expected an object")
        unknown = sorted(set(obj) - {f for f in cls.__dataclass_fields__})
        if unknown:
            raise AppError(f"settings: unknown field(s) {', '.join(unknown)}")
        instrument = _text(obj, "instrument") or "servqual25"
        if instrument not in (*list_instruments(), "custom"):
            raise AppError(f"instrument: choose one of {', '.join(list_instruments())} or custom; got {instrument!r}")
        custom_sets = _text(obj, "custom_sets") or "EP"
        if custom_sets not in ("EP", "P", "once"):
            raise AppError(f"custom_sets: EP, P or once; got {custom_sets!r}")
        scale = obj.get("scale")
        if scale is not None:
            if not isinstance(scale, (list, tuple)) or len(scale) != 2:
                raise AppError("scale: expected [minimum, maximum]")
            lo = _int({"scale minimum": scale[0]}, "scale minimum", -1000, 1000)
            hi = _int({"scale maximum": scale[1]}, "scale maximum", -1000, 1000)
            scale = None if lo is None or hi is None else (lo, hi)
            if scale is not None and lo >= hi:  # type: ignore[operator]
                raise AppError(f"scale: the minimum {lo} must be below the maximum {hi}")
        cmap = obj.get("column_map") or {}
        if not isinstance(cmap, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in cmap.items()):
            raise AppError("column_map: expected an object of column names")
        cmap = {k.strip(): v.strip() for k, v in cmap.items() if v.strip() and k.strip() != v.strip()}
        if any("=" in k for k in cmap):
            raise AppError("column_map: an item's column name cannot contain '='")
        nan_policy = _text(obj, "nan_policy") or "raise"
        if nan_policy not in ("raise", "omit"):
            raise AppError(f"nan_policy: raise or omit; got {nan_policy!r}")
        analyses = _names(obj, "analyses")
        if isinstance(obj.get("analyses"), (list, tuple)) and not analyses:
            raise AppError("analyses: choose at least one")
        bad = [a for a in analyses if a not in ANALYSES + OPTIONAL_ANALYSES]
        if bad:
            raise AppError(f"analyses: unknown {', '.join(bad)}; choose from {', '.join(ANALYSES + OPTIONAL_ANALYSES)}")
        estimator = (_text(obj, "estimator") or "ML").upper()
        if estimator not in ESTIMATORS:
            raise AppError(f"estimator: {', '.join(ESTIMATORS)}; got {estimator!r}")
        drop = obj.get("drop_rows") or []
        if not isinstance(drop, (list, tuple)):
            raise AppError("drop_rows: expected a list of row numbers")
        drop_rows = tuple(sorted({_int({"drop_rows": r}, "drop_rows", 1) or 0 for r in drop}))
        template = _text(obj, "column_template")
        if template is not None and "{item}" not in template:
            raise AppError("column_template: must contain {item}")
        return cls(
            instrument=instrument, custom=_text(obj, "custom"), custom_sets=custom_sets,
            score_sets=_names(obj, "score_sets"), scale=scale, column_template=template, column_map=cmap,
            reverse=_names(obj, "reverse"), outcome=_text(obj, "outcome"), respondent_id=_text(obj, "respondent_id"),
            groups=_names(obj, "groups"), nan_policy=nan_policy, sheet=_text(obj, "sheet"), drop_rows=drop_rows,
            analyses=analyses, estimator=estimator, seed=_int(obj, "seed", 0, 2**63 - 1) or 0,
            n_resamples=_int(obj, "n_resamples", 0), title=_text(obj, "title"),
        )

    # ------------------------------------------------------------------ the instrument
    def base_instrument(self) -> Instrument:
        """The preset or custom instrument, with a preset's score sets restricted when asked."""
        if self.instrument == "custom":
            inst = custom_instrument(self.custom or "", self.custom_sets, self.scale)
        else:
            inst = get_instrument(self.instrument)
        if self.score_sets and set(self.score_sets) != set(inst.score_sets):
            missing = [s for s in self.score_sets if s not in inst.score_sets]
            if missing:
                raise AppError(f"score_sets: {', '.join(missing)} not in instrument {inst.name!r} "
                               f"({', '.join(inst.score_sets)})")
            inst = inst.with_score_sets([s for s in inst.score_sets if s in self.score_sets])
        return inst

    def needs_instrument_file(self) -> bool:
        """True when the command needs ``--instrument instrument.yaml`` (not a preset as it is)."""
        if self.instrument == "custom":
            return True
        return bool(self.score_sets) and set(self.score_sets) != set(get_instrument(self.instrument).score_sets)

    def with_dropped(self, rows: Sequence[int]) -> Settings:
        return replace(self, drop_rows=tuple(sorted(set(self.drop_rows) | set(rows))))


def _items(value: Any, dim: str) -> list[str]:
    """A custom dimension's items: a list, or text such as ``"1-5"``, ``"A1 A2 A3"``, ``"q1, q2"``."""
    if isinstance(value, (list, tuple)):
        tokens = [str(v).strip() for v in value]
    elif isinstance(value, (str, int)):
        tokens = [t for t in re.split(r"[\s,;]+", str(value)) if t]
    else:
        raise AppError(f"custom instrument: dimension {dim!r} needs a list of items")
    out: list[str] = []
    for t in tokens:
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", t)
        if m and int(m[1]) <= int(m[2]) and int(m[2]) - int(m[1]) < 1000:
            out += [str(k) for k in range(int(m[1]), int(m[2]) + 1)]
        else:
            out.append(t)
    return out


def custom_instrument(text: str, sets: str = "EP", scale: tuple[int, int] | None = None) -> Instrument:
    """An instrument from the page's text box.

    Either a whole instrument definition in YAML or JSON (with ``dimensions:``, as
    ``--instrument FILE``), or one line per dimension, ``name: items``.  With
    ``sets="EP"`` or ``"P"`` the items are numbers or names joined to the set code
    (``E1``, ``P1``); with ``"once"`` (a questionnaire answered once) they are the
    column names themselves.

    Examples
    --------
    >>> inst = custom_instrument("speed: 1-3\\ncare: 4 5", "P", (1, 5))
    >>> inst.columns("P"), inst.scale
    (('P1', 'P2', 'P3', 'P4', 'P5'), (1, 5))
    >>> custom_instrument("agreeableness: A1 A2 A3", "once", (1, 6)).columns("S")
    ('A1', 'A2', 'A3')
    """
    import yaml

    from .._exceptions import InstrumentError

    try:
        spec = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise AppError(f"custom instrument: not readable as 'dimension: items' lines or YAML: {exc}") from None
    if not isinstance(spec, Mapping) or not spec:
        raise AppError("custom instrument: write one line per dimension, e.g. 'tangibles: 1-5'")
    if "dimensions" in spec:
        try:
            return Instrument.from_dict(spec)
        except InstrumentError as exc:
            raise AppError(f"custom instrument: {exc}") from None
    dims = {str(k).strip(): _items(v, str(k)) for k, v in spec.items()}
    kw: dict[str, Any] = {"name": "custom", "dimensions": dims, "scale": scale or (1, 5)}
    if sets == "once":
        kw.update(score_sets=["S"], set_names={"S": "score"}, column_template="{item}")
    else:
        kw.update(score_sets=["E", "P"] if sets == "EP" else ["P"])
    try:
        return Instrument(**kw)
    except InstrumentError as exc:
        raise AppError(f"custom instrument: {exc}") from None


def command_args(s: Settings, file: str, instrument_file: str | None = None, *, out: str = OUT_FOLDER) -> list[str]:
    """The arguments of ``servmodels report`` (without the program name) for these settings.

    ``file`` is the survey file and ``instrument_file`` the instrument's YAML (when
    :meth:`Settings.needs_instrument_file`), as paths on the server or as the names
    the user sees.

    Examples
    --------
    >>> command_args(Settings(scale=(1, 4), outcome="satisfaction", seed=3), "survey.csv")
    ['report', 'survey.csv', '--instrument', 'servqual25', '--scale', '1', '4', '--outcome', 'satisfaction', '--seed', '3', '--format', 'html,docx,md,tex', '--lang', 'en,id', '--out', 'servmodels-report']
    """
    args = ["report", file, "--instrument", instrument_file if s.needs_instrument_file() and instrument_file
            else s.instrument]
    if s.scale is not None:
        args += ["--scale", str(s.scale[0]), str(s.scale[1])]
    if s.sheet:
        args += ["--sheet", s.sheet]
    if s.column_template:
        args += ["--columns", s.column_template]
    for key, value in s.column_map.items():
        args += ["--map", f"{key}={value}"]
    if s.reverse:
        args += ["--reverse", ",".join(s.reverse)]
    if s.respondent_id:
        args += ["--id", s.respondent_id]
    if s.outcome:
        args += ["--outcome", s.outcome]
    for g in s.groups:
        args += ["--group", g]
    if s.nan_policy == "omit":
        args += ["--nan-policy", "omit"]
    if s.analyses and list(s.analyses) != list(ANALYSES):
        args += ["--analyses", ",".join(s.analyses)]
    if s.estimator != "ML":
        args += ["--estimator", s.estimator]
    args += ["--seed", str(s.seed)]
    if s.n_resamples is not None:
        args += ["--n-resamples", str(s.n_resamples)]
    if s.title:
        args += ["--title", s.title]
    return args + ["--format", ",".join(REPORT_FORMATS), "--lang", ",".join(REPORT_LANGS), "--out", out]


def command_line(args: Sequence[str]) -> str:
    """The command as a user types it in a POSIX shell (each argument quoted as needed)."""
    return "servmodels " + " ".join(shlex.quote(a) for a in args)


def python_code(s: Settings, file: str, instrument_file: str | None = None, *, out: str = OUT_FOLDER) -> str:
    """A Python script that reads, analyses and reports exactly as ``servmodels report`` with :func:`command_args`.

    Examples
    --------
    >>> print(python_code(Settings(scale=(1, 4), seed=3), "survey.csv"))  # doctest: +ELLIPSIS
    import servmodels as sm
    from servmodels.render import write_report
    <BLANKLINE>
    instrument = sm.get_instrument('servqual25')
    data = sm.read_survey('survey.csv', instrument, scale=(1, 4))
    analysis = sm.analyze(data, seed=3, options=sm.SEMOptions(estimator='ML'), input_path='survey.csv')
    ...
    """
    lines = ["import servmodels as sm", "from servmodels.render import write_report", ""]
    source = instrument_file if s.needs_instrument_file() and instrument_file else s.instrument
    lines.append(f"instrument = sm.get_instrument({source!r})")
    if s.column_template:
        lines.append(f"instrument = instrument.with_columns(column_template={s.column_template!r})")
    if s.reverse:
        lines.append(f"instrument = instrument.with_reverse({list(s.reverse)!r})")
    kw = []
    if s.scale is not None:
        kw.append(f"scale={tuple(s.scale)!r}")
    if s.column_map:
        kw.append(f"column_map={dict(s.column_map)!r}")
    if s.outcome:
        kw.append(f"outcome={s.outcome!r}")
    if s.respondent_id:
        kw.append(f"respondent_id={s.respondent_id!r}")
    if s.groups:
        kw.append(f"groups={list(s.groups)!r}")
    if s.nan_policy == "omit":
        kw.append("nan_policy='omit'")
    if s.sheet:
        kw.append(f"sheet={s.sheet!r}")
    lines.append(f"data = sm.read_survey({', '.join([repr(file), 'instrument', *kw])})")
    akw = [f"seed={s.seed}"]
    if s.n_resamples is not None:
        akw.append(f"n_resamples={s.n_resamples}")
    akw.append(f"options=sm.SEMOptions(estimator={s.estimator!r})")
    if s.analyses and list(s.analyses) != list(ANALYSES):
        akw.append(f"analyses={list(s.analyses)!r}")
    if s.title:
        akw.append(f"title={s.title!r}")
    akw.append(f"input_path={file!r}")
    lines.append(f"analysis = sm.analyze(data, {', '.join(akw)})")
    lines.append(f"write_report(analysis, {out!r}, formats={list(REPORT_FORMATS)!r}, langs={list(REPORT_LANGS)!r})")
    lines.append("print(analysis.summary())")
    return "\n".join(lines) + "\n"


def instrument_yaml(inst: Instrument) -> str:
    """The instrument as the YAML file ``--instrument instrument.yaml`` reads."""
    import yaml

    spec = {k: v for k, v in inst.to_dict().items() if v not in (None, "", [], {})}
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def display_names(upload_name: str, settings: Settings) -> tuple[str, str | None]:
    """The data file and instrument file names as the user sees them in the commands."""
    name = upload_name
    if settings.drop_rows:
        name = f"{Path(upload_name).stem}_without_dropped_rows.csv"
    return name, ("instrument.yaml" if settings.needs_instrument_file() else None)
