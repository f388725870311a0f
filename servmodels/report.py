"""Whole-analysis reports: HTML (self-contained), Word (.docx), Markdown and LaTeX, in
English or Bahasa Indonesia, with figures.  Every number comes from the public result
objects; an analysis that fails or does not apply is listed with the reason."""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass, field
from html import escape as html_escape
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._exceptions import ParameterError
from ._params import check_bool, check_choice
from ._progress import progress as progress_bar
from .data import SurveyData

__all__ = ["build_report", "Report"]

Lang = Literal["en", "id"]

LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "Service quality report", "id": "Laporan kualitas pelayanan"},
    "data": {"en": "Data", "id": "Data"},
    "used": {"en": "respondents analysed", "id": "responden dianalisis"},
    "dropped": {"en": "dropped (missing answers)", "id": "dikeluarkan (jawaban kosong)"},
    "sample": {"en": "Sample by group", "id": "Sebaran sampel per kelompok"},
    "items": {"en": "Items: expectation, perception and gap", "id": "Butir: harapan, kinerja dan kesenjangan"},
    "dims": {"en": "Dimensions", "id": "Dimensi"},
    "reliability": {"en": "Reliability and validity", "id": "Reliabilitas dan validitas"},
    "htmt": {"en": "HTMT (discriminant validity)", "id": "HTMT (validitas diskriminan)"},
    "cfa": {"en": "Confirmatory factor analysis (perception items)", "id": "Analisis faktor konfirmatori (butir kinerja)"},
    "compare": {"en": "SERVQUAL versus SERVPERF", "id": "SERVQUAL dibandingkan SERVPERF"},
    "ipa": {"en": "Importance–performance analysis", "id": "Analisis kepentingan–kinerja"},
    "skipped": {"en": "Analyses skipped", "id": "Analisis yang dilewati"},
    "figures": {"en": "Figures", "id": "Gambar"},
    "sentences": {"en": "Reporting sentences", "id": "Kalimat pelaporan"},
    "expectation": {"en": "Expectation", "id": "Harapan"},
    "perception": {"en": "Perception", "id": "Kinerja"},
    "gap": {"en": "Gap", "id": "Kesenjangan"},
    "item": {"en": "Item", "id": "Butir"},
    "dimension": {"en": "Dimension", "id": "Dimensi"},
    "ci_low": {"en": "CI low", "id": "Batas bawah"},
    "ci_high": {"en": "CI high", "id": "Batas atas"},
    "p_adjusted": {"en": "p (Holm)", "id": "p (Holm)"},
    "group": {"en": "Group", "id": "Kelompok"},
    "count": {"en": "n", "id": "n"},
    "importance": {"en": "Importance", "id": "Kepentingan"},
    "performance": {"en": "Performance", "id": "Kinerja"},
    "quadrant": {"en": "Quadrant", "id": "Kuadran"},
    "no_outcome": {"en": "no overall-satisfaction column (--outcome)", "id": "tidak ada kolom kepuasan keseluruhan (--outcome)"},
    "synthetic": {"en": "Bundled SYNTHETIC example data (not real respondents).", "id": "Data contoh SINTETIS (bukan responden sebenarnya)."},
    "fig_gap_dims": {"en": "Dimension gaps (P − E) with 95% BCa intervals", "id": "Kesenjangan dimensi (P − E) dengan interval BCa 95%"},
    "fig_gap_items": {"en": "Item gaps with 95% BCa intervals", "id": "Kesenjangan butir dengan interval BCa 95%"},
    "fig_profile": {"en": "Expectation and perception profile", "id": "Profil harapan dan kinerja"},
    "fig_ipa": {"en": "Importance–performance quadrants", "id": "Kuadran kepentingan–kinerja"},
    "fig_scree": {"en": "Scree plot and parallel analysis", "id": "Scree plot dan analisis paralel"},
    "dim_names": {"en": "", "id": ""},
}

COLUMNS: dict[str, dict[str, str]] = {
    "alpha": {"en": "alpha", "id": "alfa"},
    "omega": {"en": "omega", "id": "omega"},
    "composite_reliability": {"en": "composite reliability", "id": "reliabilitas komposit"},
    "ave": {"en": "AVE", "id": "AVE"},
    "alpha_ci_low": {"en": "alpha CI low", "id": "alfa batas bawah"},
    "alpha_ci_high": {"en": "alpha CI high", "id": "alfa batas atas"},
    "chisq": {"en": "chi-square", "id": "khi-kuadrat"},
    "df": {"en": "df", "id": "db"},
    "pvalue": {"en": "p", "id": "p"},
    "cfi": {"en": "CFI", "id": "CFI"}, "tli": {"en": "TLI", "id": "TLI"},
    "rmsea": {"en": "RMSEA", "id": "RMSEA"}, "srmr": {"en": "SRMR", "id": "SRMR"},
    "lhs": {"en": "factor", "id": "faktor"}, "rhs": {"en": "item", "id": "butir"},
    "estimate": {"en": "loading", "id": "muatan"}, "se": {"en": "SE", "id": "galat baku"},
    "std_all": {"en": "standardized", "id": "terstandar"},
    "model": {"en": "model", "id": "model"}, "r2": {"en": "R²", "id": "R²"},
    "adj_r2": {"en": "adjusted R²", "id": "R² disesuaikan"}, "aic": {"en": "AIC", "id": "AIC"},
    "bic": {"en": "BIC", "id": "BIC"}, "cv_r2": {"en": "cross-validated R²", "id": "R² validasi silang"},
    "importance": {"en": "importance", "id": "kepentingan"}, "performance": {"en": "performance", "id": "kinerja"},
    "quadrant": {"en": "quadrant", "id": "kuadran"},
    "p_I": {"en": "P(quadrant I)", "id": "P(kuadran I)"}, "p_II": {"en": "P(quadrant II)", "id": "P(kuadran II)"},
    "p_III": {"en": "P(quadrant III)", "id": "P(kuadran III)"}, "p_IV": {"en": "P(quadrant IV)", "id": "P(kuadran IV)"},
    "item": {"en": "item", "id": "butir"}, "dimension": {"en": "dimension", "id": "dimensi"},
    "expectation": {"en": "expectation", "id": "harapan"}, "perception": {"en": "perception", "id": "kinerja"},
    "gap": {"en": "gap", "id": "kesenjangan"}, "ci_low": {"en": "CI low", "id": "batas bawah"},
    "ci_high": {"en": "CI high", "id": "batas atas"}, "p_adjusted": {"en": "p (Holm)", "id": "p (Holm)"},
}


def _cols(df: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    return df.rename(columns={c: COLUMNS[c][lang] for c in df.columns if c in COLUMNS})


DIM_ID = {"tangibles": "bukti fisik", "reliability": "keandalan", "responsiveness": "daya tanggap",
          "assurance": "jaminan", "empathy": "empati"}


def _t(key: str, lang: Lang) -> str:
    return LABELS[key][lang]


def _dim(name: str, lang: Lang) -> str:
    return DIM_ID.get(name, name) if lang == "id" else name


@dataclass
class Report:
    """The assembled report: sections of (title, table or text), figures and skipped analyses."""

    lang: Lang
    sections: list[tuple[str, Any]] = field(default_factory=list)
    figures: dict[str, tuple[str, bytes, bytes]] = field(default_factory=dict)  # name -> (caption, png, svg)
    sentences: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    dimension_table: pd.DataFrame | None = None


def _fig(fig: Any) -> tuple[bytes, bytes]:
    import matplotlib.pyplot as plt

    out = []
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight")
        out.append(buf.getvalue())
    plt.close(fig)
    return out[0], out[1]


def _figures(rep: Report, boot: Any, score_res: Any, ipa_res: Any, efa_res: Any, lang: Lang) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    dims = boot.table[boot.table.level == "dimension"]
    fig, ax = plt.subplots(figsize=(6, 3))
    y = np.arange(len(dims))
    ax.barh(y, dims["estimate"], color="0.6", edgecolor="black", hatch="//")
    ax.errorbar(dims["estimate"], y, xerr=[dims["estimate"] - dims["ci_low"], dims["ci_high"] - dims["estimate"]],
                fmt="none", ecolor="black", capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [_dim(n, lang) for n in dims["name"]])
    ax.set_xlabel(_t("gap", lang))
    rep.figures["gap_dimensions"] = (_t("fig_gap_dims", lang), *_fig(fig))
    items = boot.table[boot.table.level == "item"]
    fig, ax = plt.subplots(figsize=(6, 6))
    y = np.arange(len(items))[::-1]
    ax.errorbar(items["estimate"], y, xerr=[items["estimate"] - items["ci_low"], items["ci_high"] - items["estimate"]],
                fmt="o", color="black", ms=3, capsize=2)
    ax.axvline(0, color="0.5", lw=0.8, ls="--")
    ax.set_yticks(y, [n.replace("gap", "") for n in items["name"]])
    ax.set_xlabel(_t("gap", lang))
    ax.set_ylabel(_t("item", lang))
    rep.figures["gap_items"] = (_t("fig_gap_items", lang), *_fig(fig))
    it = score_res.items
    fig, ax = plt.subplots(figsize=(7, 3))
    x = np.arange(len(it))
    ax.plot(x, it["expectation"], "s--", color="0.5", label=_t("expectation", lang))
    ax.plot(x, it["perception"], "o-", color="black", label=_t("perception", lang))
    ax.set_xticks(x, it["item"])
    ax.set_xlabel(_t("item", lang))
    ax.legend(frameon=False)
    rep.figures["profile"] = (_t("fig_profile", lang), *_fig(fig))
    if ipa_res is not None:
        t = ipa_res.table
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.scatter(t["performance"], t["importance"], color="black", s=12)
        for name, r in t.iterrows():
            ax.annotate(str(name), (r["performance"], r["importance"]), fontsize=7, xytext=(2, 2), textcoords="offset points")
        ax.axvline(ipa_res.crosshair_performance, color="0.5", ls="--")
        ax.axhline(ipa_res.crosshair_importance, color="0.5", ls="--")
        ax.set_xlabel(_t("performance", lang))
        ax.set_ylabel(_t("importance", lang))
        rep.figures["ipa"] = (_t("fig_ipa", lang), *_fig(fig))
    if efa_res is not None:
        e = efa_res.eigenvalues.head(10)
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot(e.index, e["fa"], "o-", color="black", label="FA" if lang == "en" else "AF")
        ax.plot(e.index, e["fa_random_95"], "s--", color="0.5", label="95% random" if lang == "en" else "95% data acak")
        ax.set_xlabel("factor" if lang == "en" else "faktor")
        ax.set_ylabel("eigenvalue" if lang == "en" else "nilai eigen")
        ax.legend(frameon=False)
        rep.figures["scree"] = (_t("fig_scree", lang), *_fig(fig))


def _path_diagram(rep: Report, fit: Any, lang: Lang) -> None:
    """Factors (ellipses) above items (boxes), arrows labelled with standardized loadings,
    factor correlations on arcs between factors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle

    pe = fit.parameters
    load = pe[pe.op == "=~"]
    factors = list(dict.fromkeys(load["lhs"]))
    items = list(load["rhs"])
    fig, ax = plt.subplots(figsize=(max(8, 0.45 * len(items)), 4))
    xi = {it: k for k, it in enumerate(items)}
    fx = {f: np.mean([xi[r] for r in load[load.lhs == f]["rhs"]]) for f in factors}
    for it, x in xi.items():
        ax.add_patch(Rectangle((x - 0.35, 0), 0.7, 0.5, fill=False, lw=0.8))
        ax.text(x, 0.25, it, ha="center", va="center", fontsize=7)
    for f, x in fx.items():
        ax.add_patch(Ellipse((x, 3), 3.0, 0.8, fill=False, lw=1))
        ax.text(x, 3, _dim(f, lang), ha="center", va="center", fontsize=8)
    for _, r in load.iterrows():
        a = FancyArrowPatch((fx[r["lhs"]], 2.6), (xi[r["rhs"]], 0.5), arrowstyle="-|>", mutation_scale=7, lw=0.6, color="0.2")
        ax.add_patch(a)
        # labels near the item end, where the arrows are far apart
        ax.text(fx[r["lhs"]] + 0.8 * (xi[r["rhs"]] - fx[r["lhs"]]), 0.92, f"{r['std_all']:.2f}", fontsize=6, ha="center",
                bbox={"fc": "white", "ec": "none", "pad": 0.3})
    ax.set_xlim(-1, len(items))
    ax.set_ylim(-0.3, 3.8)
    ax.axis("off")
    caption = ("CFA path diagram with standardized loadings" if lang == "en"
               else "Diagram jalur CFA dengan muatan faktor terstandar")
    rep.figures["cfa_path"] = (caption, *_fig(fig))


def build_report(data: SurveyData, *, lang: Lang = "en", seed: int = 0, n_resamples: int = 2000,
                 source_note: str | None = None, options: Any = None, progress: bool = False) -> Report:
    """Run the whole analysis on validated data and assemble a :class:`Report`.

    ``options`` (:class:`~servmodels.SEMOptions`) reaches the CFA, the CFA behind
    omega/CR/AVE and the CFA rows of the SERVQUAL-vs-SERVPERF comparison.
    ``progress=True`` shows a progress bar of the analyses on stderr (and the bars of the
    bootstraps, parallel analysis and cross-validation inside them); the report is the
    same without it.
    """
    from .sem.options import resolve_options

    options = resolve_options(options)
    if lang not in ("en", "id"):
        check_choice("lang", lang, ("en", "id"))
    progress = check_bool("progress", progress)
    data.require("E", "P")
    with progress_bar(len(_REPORT_STEPS), "report", progress, unit="analyses") as bar:
        return _build_report(data, lang, seed, n_resamples, source_note, options, progress, bar)


#: the analyses of a report, one step of its progress bar each
_REPORT_STEPS = ("gaps", "reliability", "cfa", "efa", "compare", "ipa", "figures")


def _build_report(data: SurveyData, lang: Lang, seed: int, n_resamples: int, source_note: str | None, options: Any,
                  progress: bool, bar: Any) -> Report:
    from .bootstrap import gap_bootstrap
    from .ipa import QUADRANTS, ipa
    from .regression import compare_servqual_servperf
    from .scoring import score
    from .sem import cfa
    from .sentences import alpha_sentence, cfa_sentence, compare_sentence, gap_sentence
    from .validity import efa, validity

    rep = Report(lang=lang)
    rep.sections.append((_t("data", lang), f"{data.n_respondents} {_t('used', lang)}; {data.n_dropped} {_t('dropped', lang)}. "
                         + (source_note or "")))
    for g in data.groups.columns:
        counts = data.groups[g].value_counts().rename_axis(_t("group", lang)).reset_index(name=_t("count", lang))
        rep.sections.append((f"{_t('sample', lang)}: {g}", counts))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sres = score(data)
        boot = gap_bootstrap(data, method="bca", n_resamples=n_resamples, rng=seed, progress=progress)
    bt = boot.table
    items = sres.items[["item", "dimension", "expectation", "perception", "gap"]].copy()
    ib = bt[bt.level == "item"].reset_index(drop=True)
    items["ci_low"], items["ci_high"], items["p_adjusted"] = ib["ci_low"], ib["ci_high"], ib["p_adjusted"]
    items["dimension"] = [_dim(d, lang) for d in items["dimension"]]
    rep.sections.append((_t("items", lang), _cols(items, lang)))
    dims = sres.dimensions.drop(index="overall")[["expectation", "perception", "gap"]].reset_index()
    db = bt[bt.level == "dimension"].reset_index(drop=True)
    dims["ci_low"], dims["ci_high"], dims["p_adjusted"] = db["ci_low"], db["ci_high"], db["p_adjusted"]
    rep.dimension_table = dims.copy()
    dims["dimension"] = [_dim(d, lang) for d in dims["dimension"]]
    rep.sections.append((_t("dims", lang), _cols(dims, lang)))
    for _, row in db.iterrows():
        rep.sentences.append(gap_sentence(_dim(row["name"], lang), row, round(boot.confidence_level * 100), lang))
    bar.update(1)
    efa_res = ipa_res = cfa_fit = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            val = validity(data, scores="P", n_resamples=min(n_resamples, 500), rng=seed, bootstrap_cfa=False,
                           options=options, progress=progress)
        vt = val.dimensions[["alpha", "omega", "composite_reliability", "ave", "alpha_ci_low", "alpha_ci_high"]].reset_index()
        vt["dimension"] = [_dim(d, lang) for d in vt["dimension"]]
        rep.sections.append((_t("reliability", lang), _cols(vt, lang)))
        ht = val.htmt.copy()
        ht.index = [_dim(d, lang) for d in ht.index]
        ht.columns = list(ht.index)
        rep.sections.append((_t("htmt", lang), ht.reset_index(names=_t("dimension", lang))))
        rep.sections.append(("KMO / Bartlett", f"KMO = {val.kmo:.3f}; Bartlett χ²({val.bartlett['df']:.0f}) = "
                             f"{val.bartlett['chisq']:.2f}, p = {val.bartlett['p_value']:.3g}"))
        for d, r in val.dimensions.iterrows():
            rep.sentences.append(alpha_sentence(_dim(d, lang), r["alpha"], r["alpha_ci_low"], r["alpha_ci_high"], lang))
    except Exception as exc:  # noqa: BLE001 - the report states what failed and goes on
        rep.skipped.append(f"{_t('reliability', lang)}: {exc}")
    bar.update(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = cfa(data, scores="P", options=options)
        f = fit.fit
        keys = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "chisq_scaled", "pvalue_scaled", "scaling_factor",
                "cfi_robust", "tli_robust", "rmsea_robust", "cfi_scaled", "rmsea_scaled")
        row = {"estimator": options.label, **{k: f[k] for k in keys if k in f}}
        rep.sections.append((_t("cfa", lang), _cols(pd.DataFrame([row]), lang)))
        lo = fit.parameters.query("op == '=~'")[["lhs", "rhs", "estimate", "se", "std_all"]].copy()
        lo["lhs"] = [_dim(d, lang) for d in lo["lhs"]]
        rep.sections.append((_t("cfa", lang) + (" — loadings" if lang == "en" else " — muatan faktor"), _cols(lo, lang)))
        cfa_fit = fit
        rep.sentences.append(cfa_sentence(f, lang))
    except Exception as exc:  # noqa: BLE001
        rep.skipped.append(f"{_t('cfa', lang)}: {exc}")
    bar.update(1)
    try:
        efa_res = efa(data, scores="P", n_iter=50, rng=seed, progress=progress)
    except Exception as exc:  # noqa: BLE001
        rep.skipped.append(f"EFA: {exc}")
    bar.update(1)
    if data.outcome is None:
        rep.skipped.append(f"{_t('compare', lang)}: {_t('no_outcome', lang)}")
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cmp = compare_servqual_servperf(data, n_resamples=min(n_resamples, 1000), rng=seed, n_repeats=5,
                                                options=options, progress=progress)
            tab = pd.DataFrame([{"model": m, "r2": r.fit["r2"], "adj_r2": r.fit["adj_r2"], "aic": r.fit["aic"], "bic": r.fit["bic"],
                                 "cv_r2": cmp.cv_r2[k]["mean"]} for m, r, k in (("SERVPERF", cmp.servperf, "servperf"),
                                                                                ("SERVQUAL", cmp.servqual, "servqual"))])
            rep.sections.append((_t("compare", lang), _cols(tab, lang)))
            rep.sections.append((_t("compare", lang) + " — verdict" if lang == "en" else _t("compare", lang) + " — kesimpulan",
                                 cmp.verdict if lang == "en" else compare_sentence(cmp, lang)))
            rep.sentences.append(compare_sentence(cmp, lang))
        except Exception as exc:  # noqa: BLE001
            rep.skipped.append(f"{_t('compare', lang)}: {exc}")
    bar.update(1)
    try:
        ipa_res = ipa(data, n_resamples=min(n_resamples, 500), rng=seed)
        it = ipa_res.table.reset_index()
        it["dimension"] = [_dim(d, lang) for d in it["dimension"]]
        it["quadrant"] = [f"{q} ({QUADRANTS[q][0 if lang == 'en' else 1]})" for q in it["quadrant"]]
        rep.sections.append((_t("ipa", lang), _cols(it, lang)))
    except Exception as exc:  # noqa: BLE001
        rep.skipped.append(f"{_t('ipa', lang)}: {exc}")
    bar.update(1)
    try:
        _figures(rep, boot, sres, ipa_res, efa_res, lang)
        if cfa_fit is not None:
            _path_diagram(rep, cfa_fit, lang)
    except Exception as exc:  # noqa: BLE001
        rep.skipped.append(f"{_t('figures', lang)}: {exc}")
    bar.update(1)
    return rep


# ----------------------------------------------------------------------------- writers
_HTML = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#111}
table{border-collapse:collapse;margin:1em 0;font-size:.85em}th,td{border-bottom:1px solid #999;padding:.2em .6em;text-align:right}
th{border-bottom:2px solid #000}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}</style></head>
<body><h1>{{ title }}</h1>
{% for title, body in sections %}<h2>{{ title }}</h2>{{ body }}{% endfor %}
<h2>{{ figures_title }}</h2>
{% for name, caption, img in figures %}<figure id="{{ name }}"><img alt="{{ caption }}" src="data:image/png;base64,{{ img }}"><figcaption>{{ caption }}</figcaption></figure>{% endfor %}
<h2>{{ sentences_title }}</h2><ul>{% for s in sentences %}<li>{{ s }}</li>{% endfor %}</ul>
{% if skipped %}<h2>{{ skipped_title }}</h2><ul>{% for s in skipped %}<li>{{ s }}</li>{% endfor %}</ul>{% endif %}
</body></html>"""


def _fmt(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    return out


def write_report(rep: Report, out: str | Path, formats: list[str], stem: str = "report") -> list[Path]:
    """Write the report in the requested formats (html, docx, md, tex); figures as PNG and SVG."""
    import jinja2

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    lang = rep.lang
    title = _t("title", lang)
    figdir = out / "figures"
    figdir.mkdir(exist_ok=True)
    for name, (_, png, svg) in rep.figures.items():
        (figdir / f"{name}.png").write_bytes(png)
        (figdir / f"{name}.svg").write_bytes(svg)
    for fmt in formats:
        if fmt == "html":
            env = jinja2.Environment(autoescape=False)
            body = [(t, _fmt(b).to_html(index=False, border=0) if isinstance(b, pd.DataFrame) else f"<p>{html_escape(str(b))}</p>")
                    for t, b in rep.sections]
            html = env.from_string(_HTML).render(
                lang=lang, title=title, sections=body, figures_title=_t("figures", lang),
                figures=[(n, c, base64.b64encode(p).decode()) for n, (c, p, _) in rep.figures.items()],
                sentences_title=_t("sentences", lang), sentences=rep.sentences,
                skipped_title=_t("skipped", lang), skipped=rep.skipped)
            path = out / f"{stem}.html"
            path.write_text(html, encoding="utf-8")
        elif fmt == "md":
            lines = [f"# {title}", ""]
            for t, b in rep.sections:
                lines += [f"## {t}", ""]
                lines += [_fmt(b).to_markdown(index=False) if isinstance(b, pd.DataFrame) else str(b), ""]
            lines += [f"## {_t('figures', lang)}", ""] + [f"![{c}](figures/{n}.png)" for n, (c, _, _) in rep.figures.items()]
            lines += ["", f"## {_t('sentences', lang)}", ""] + [f"- {s}" for s in rep.sentences]
            if rep.skipped:
                lines += ["", f"## {_t('skipped', lang)}", ""] + [f"- {s}" for s in rep.skipped]
            path = out / f"{stem}.md"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        elif fmt == "docx":
            import docx
            from docx.shared import Inches

            doc = docx.Document()
            doc.add_heading(title, 0)
            for t, b in rep.sections:
                doc.add_heading(t, 1)
                if isinstance(b, pd.DataFrame):
                    f = _fmt(b)
                    table = doc.add_table(rows=1, cols=len(f.columns))
                    table.style = "Table Grid"
                    for j, c in enumerate(f.columns):
                        table.rows[0].cells[j].text = str(c)
                    for row in f.itertuples(index=False):
                        cells = table.add_row().cells
                        for j, v in enumerate(row):
                            cells[j].text = str(v)
                else:
                    doc.add_paragraph(str(b))
            doc.add_heading(_t("figures", lang), 1)
            for c, png, _ in rep.figures.values():
                doc.add_picture(io.BytesIO(png), width=Inches(6))
                doc.add_paragraph(c)
            doc.add_heading(_t("sentences", lang), 1)
            for s in rep.sentences:
                doc.add_paragraph(s, style="List Bullet")
            if rep.skipped:
                doc.add_heading(_t("skipped", lang), 1)
                for s in rep.skipped:
                    doc.add_paragraph(s, style="List Bullet")
            path = out / f"{stem}.docx"
            doc.save(path)
        elif fmt in ("tex", "latex"):
            parts = ["\\documentclass{article}", "\\usepackage{booktabs}", "\\usepackage{graphicx}", "\\usepackage[utf8]{inputenc}",
                     "\\begin{document}", f"\\section*{{{title}}}"]
            for t, b in rep.sections:
                parts.append(f"\\subsection*{{{_tex(t)}}}")
                if isinstance(b, pd.DataFrame):
                    parts.append(_fmt(b).style.hide(axis="index").to_latex(hrules=True))
                else:
                    parts.append(_tex(str(b)))
            for n, (c, _, _) in rep.figures.items():
                parts += ["\\begin{figure}[h]\\centering", f"\\includegraphics[width=\\linewidth]{{figures/{n}.png}}",
                          f"\\caption{{{_tex(c)}}}", "\\end{figure}"]
            parts += [f"\\subsection*{{{_tex(_t('sentences', lang))}}}", "\\begin{itemize}"]
            parts += [f"\\item {_tex(s)}" for s in rep.sentences] + ["\\end{itemize}", "\\end{document}"]
            path = out / f"{stem}.tex"
            path.write_text("\n".join(parts) + "\n", encoding="utf-8")
        else:
            raise ParameterError(f"formats: unknown report format {fmt!r}; use html, docx, md, tex")
        written.append(path)
    return written


def _tex(s: str) -> str:
    for a, b in (("\\", "\\textbackslash{}"), ("&", "\\&"), ("%", "\\%"), ("_", "\\_"), ("#", "\\#"), ("$", "\\$")):
        s = s.replace(a, b)
    return s
