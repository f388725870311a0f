"""The report's figures, drawn from an :class:`~servmodels.analysis.Analysis` (nothing is computed here).

Each figure is returned as ``name -> Figure(caption, png, svg, width_in)``; writers
size them to the page (HTML ``max-width: 100%``; Word and LaTeX the text width).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis import Analysis
from .catalogue import QUADRANT_NAMES, column, label
from .tables import number

__all__ = ["Figure", "render_figures"]


@dataclass(frozen=True)
class Figure:
    name: str
    caption: str
    png: bytes
    svg: bytes
    width_in: float


def _save(fig: Any) -> tuple[bytes, bytes]:
    import matplotlib.pyplot as plt

    out = []
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None)
        out.append(buf.getvalue())
    plt.close(fig)
    return out[0], out[1]


def _decimal(lang: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: number(v, 2 if abs(v) < 10 else 0, lang).rstrip("0").rstrip(",.")
                         if v != 0 else "0")


def _xerr(t: Any) -> list[np.ndarray]:
    """Error-bar lengths; an interval that does not bracket its estimate (few resamples) or is undefined draws none."""
    lo = (t["estimate"] - t["ci_low"]).to_numpy(float)
    hi = (t["ci_high"] - t["estimate"]).to_numpy(float)
    return [np.clip(np.nan_to_num(lo), 0, None), np.clip(np.nan_to_num(hi), 0, None)]


def render_figures(analysis: Analysis, lang: str) -> dict[str, Figure]:
    """Every figure the analysis supports, captioned in ``lang``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inst = analysis.instrument
    dim = (lambda d: inst.label(d, lang)) if inst is not None else (lambda d: d)
    figs: dict[str, Figure] = {}
    style = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "servmodels"}
    with plt.rc_context(style):
        boot = analysis.get("bootstrap")
        if boot is not None:
            level = number(100 * boot.confidence_level, 0, lang)
            dims = boot.table[boot.table.level == "dimension"]
            fig, ax = plt.subplots(figsize=(6, 3))
            y = np.arange(len(dims))[::-1]
            ax.barh(y, dims["estimate"], color="0.75", edgecolor="black")
            ax.errorbar(dims["estimate"], y, xerr=_xerr(dims), fmt="none", ecolor="black", capsize=3)
            ax.axvline(0, color="black", lw=0.8)
            ax.set_yticks(y, [dim(n) for n in dims["name"]])
            ax.set_xlabel(label("axis_gap", lang))
            ax.xaxis.set_major_formatter(_decimal(lang))
            figs["gap_dimensions"] = Figure("gap_dimensions", label("fig_gap_dims", lang, level=level), *_save(fig), 6.0)
            items = boot.table[boot.table.level == "item"]
            fig, ax = plt.subplots(figsize=(6, max(3.0, 0.22 * len(items))))
            y = np.arange(len(items))[::-1]
            ax.errorbar(items["estimate"], y, xerr=_xerr(items), fmt="o", color="black", ms=3, capsize=2)
            ax.axvline(0, color="0.5", lw=0.8, ls="--")
            ax.set_yticks(y, [str(n).replace("gap", "") for n in items["name"]])
            ax.set_xlabel(label("axis_gap", lang))
            ax.set_ylabel(label("axis_item", lang))
            ax.xaxis.set_major_formatter(_decimal(lang))
            figs["gap_items"] = Figure("gap_items", label("fig_gap_items", lang, level=level), *_save(fig), 6.0)
        sres = analysis.get("scores")
        if sres is not None and {"expectation", "perception"} <= set(sres.scores):
            it = sres.items
            fig, ax = plt.subplots(figsize=(6.5, 3))
            x = np.arange(len(it))
            ax.plot(x, it["expectation"], "s--", color="0.5", ms=4, label=column("expectation", lang))
            ax.plot(x, it["perception"], "o-", color="black", ms=4, label=column("perception", lang))
            ax.set_xticks(x, it["item"], fontsize=7)
            ax.set_xlabel(label("axis_item", lang))
            ax.set_ylabel(label("axis_mean", lang))
            ax.yaxis.set_major_formatter(_decimal(lang))
            ax.legend(frameon=False)
            figs["profile"] = Figure("profile", label("fig_profile", lang), *_save(fig), 6.0)
        ipa_res = analysis.get("ipa")
        if ipa_res is not None:
            figs["ipa"] = _ipa_figure(ipa_res, lang)
        efa_res = analysis.get("efa")
        if efa_res is not None:
            e = efa_res.eigenvalues.head(10)
            fig, ax = plt.subplots(figsize=(5, 3))
            ax.plot(e.index, e["fa"], "o-", color="black", label=label("legend_observed", lang))
            ax.plot(e.index, e["fa_random_95"], "s--", color="0.5", label=label("legend_random", lang))
            ax.set_xlabel(label("axis_factor", lang))
            ax.set_ylabel(label("axis_eigenvalue", lang))
            ax.yaxis.set_major_formatter(_decimal(lang))
            ax.legend(frameon=False)
            figs["scree"] = Figure("scree", label("fig_scree", lang), *_save(fig), 5.0)
        fit = analysis.get("cfa")
        if fit is not None:
            figs["cfa_path"] = _path_diagram(fit, lang, dim)
    return figs


def _ipa_figure(ipa_res: Any, lang: str) -> Figure:
    import matplotlib.pyplot as plt

    t = ipa_res.table
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(t["performance"], t["importance"], color="black", s=12, zorder=3)
    xc, yc = ipa_res.crosshair_performance, ipa_res.crosshair_importance
    ax.axvline(xc, color="0.5", ls="--", lw=0.8)
    ax.axhline(yc, color="0.5", ls="--", lw=0.8)
    names = [str(i) for i in (t["item"] if "item" in t.columns else t.index)]
    _place_labels(ax, t["performance"].to_numpy(float), t["importance"].to_numpy(float), names)
    # quadrant names in the corners (Martilla & James 1977): I high importance, low performance
    for q, (hx, hy, va) in {"I": (0.02, 0.98, "top"), "II": (0.98, 0.98, "top"), "III": (0.02, 0.02, "bottom"),
                            "IV": (0.98, 0.02, "bottom")}.items():
        ax.text(hx, hy, f"{q}: {QUADRANT_NAMES[q][lang]}", transform=ax.transAxes, ha="left" if hx < 0.5 else "right",
                va=va, fontsize=8, color="0.3", style="italic")
    ax.set_xlabel(label("axis_performance", lang))
    ax.set_ylabel(label("axis_importance", lang))
    ax.xaxis.set_major_formatter(_decimal(lang))
    ax.yaxis.set_major_formatter(_decimal(lang))
    return Figure("ipa", label("fig_ipa", lang), *_save(fig), 6.0)


def _place_labels(ax: Any, x: np.ndarray, y: np.ndarray, names: list[str]) -> None:
    """Label points without overlaps: greedy choice among 8 offsets, in display coordinates."""
    fig = ax.figure
    fig.canvas.draw()
    trans = ax.transData
    pts = trans.transform(np.column_stack([x, y]))
    placed: list[tuple[float, float, float, float]] = []
    w_char, h = 5.0, 9.0  # pixels at dpi 100 for fontsize 7
    offsets = [(4, 4), (4, -12), (-4, 4), (-4, -12), (8, -4), (-8, -4), (0, 10), (0, -16)]
    for (px, py), name in zip(pts, names):
        w = w_char * len(name)
        best = None
        for dx, dy in offsets:
            x0 = px + dx if dx >= 0 else px + dx - w
            box = (x0, py + dy, x0 + w, py + dy + h)
            overlap = sum(max(0, min(box[2], b[2]) - max(box[0], b[0])) * max(0, min(box[3], b[3]) - max(box[1], b[1]))
                          for b in placed)
            overlap += sum(1e3 for qx, qy in pts if box[0] <= qx <= box[2] and box[1] <= qy <= box[3])
            if best is None or overlap < best[0]:
                best = (overlap, dx, dy, box)
            if overlap == 0:
                break
        assert best is not None
        _, dx, dy, box = best
        placed.append(box)
        ax.annotate(name, (trans.inverted().transform((px, py))), xytext=(dx, dy), textcoords="offset pixels",
                    fontsize=7, ha="left" if dx >= 0 else "right")


def _path_diagram(fit: Any, lang: str, dim: Any) -> Figure:
    """Factors (ellipses) above items (boxes), arrows labelled with standardized loadings; fits the page width."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle

    pe = fit.parameters
    load = pe[pe.op == "=~"]
    factors = list(dict.fromkeys(load["lhs"]))
    items = list(load["rhs"])
    width = 6.5  # inches: the text width of an A4 page with 2.5 cm margins
    fig, ax = plt.subplots(figsize=(width, 3.2))
    xi = {it: k for k, it in enumerate(items)}
    fx = {f: float(np.mean([xi[r] for r in load[load.lhs == f]["rhs"]])) for f in factors}
    span = max(len(items), 1)
    fs = max(4.0, min(7.0, 140 / span))
    for it, x in xi.items():
        ax.add_patch(Rectangle((x - 0.4, 0), 0.8, 0.5, fill=False, lw=0.6))
        ax.text(x, 0.25, it, ha="center", va="center", fontsize=fs, rotation=90 if span > 30 else 0)
    for f, x in fx.items():
        n_f = int((load.lhs == f).sum())
        ax.add_patch(Ellipse((x, 3), max(1.6, 0.8 * n_f), 0.8, fill=False, lw=0.8))
        ax.text(x, 3, dim(f), ha="center", va="center", fontsize=fs + 1)
    for _, r in load.iterrows():
        ax.add_patch(FancyArrowPatch((fx[r["lhs"]], 2.6), (xi[r["rhs"]], 0.5), arrowstyle="-|>", mutation_scale=6,
                                     lw=0.5, color="0.2"))
        ax.text(fx[r["lhs"]] + 0.8 * (xi[r["rhs"]] - fx[r["lhs"]]), 0.95, number(r["std_all"], 2, lang), fontsize=fs - 1,
                ha="center", rotation=90 if span > 20 else 0, bbox={"fc": "white", "ec": "none", "pad": 0.2})
    ax.set_xlim(-0.8, span - 0.2)
    ax.set_ylim(-0.3, 3.6)
    ax.axis("off")
    return Figure("cfa_path", label("fig_cfa", lang), *_save(fig), width)
