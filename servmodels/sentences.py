"""APA-style reporting sentences in English and Indonesian, built from result objects."""

from __future__ import annotations

from typing import Any, Literal

Lang = Literal["en", "id"]


def _num(x: float, digits: int = 2, lang: Lang = "en") -> str:
    s = f"{x:.{digits}f}"
    if lang == "id":
        s = s.replace(".", ",")  # Indonesian decimal comma
    return s.replace("-", "−")


def _p(p: float, lang: Lang) -> str:
    # APA drops the leading zero in English; Indonesian theses write 0,001 with a decimal comma
    if lang == "id":
        return "p < 0,001" if p < 0.001 else f"p = {p:.3f}".replace(".", ",")
    return "p < .001" if p < 0.001 else f"p = {f'{p:.3f}'[1:]}"


def gap_sentence(name: str, row: Any, level_pct: int, lang: Lang = "en") -> str:
    """e.g. 'The assurance gap was −0.44, 95% CI [−0.57, −0.32], p < .001 (Holm-adjusted).'"""
    est, lo, hi, p = row["estimate"], row["ci_low"], row["ci_high"], row["p_adjusted"]
    if lang == "id":
        return (f"Kesenjangan dimensi {name} sebesar {_num(est, 2, lang)}, IK {level_pct}% [{_num(lo, 2, lang)}; "
                f"{_num(hi, 2, lang)}], {_p(p, lang)} (disesuaikan Holm).")
    return f"The {name} gap was {_num(est)}, {level_pct}% CI [{_num(lo)}, {_num(hi)}], {_p(p, lang)} (Holm-adjusted)."


def alpha_sentence(name: str, alpha: float, lo: float, hi: float, lang: Lang = "en") -> str:
    if lang == "id":
        return f"Reliabilitas dimensi {name}: α = {_num(alpha, 2, lang)}, IK 95% [{_num(lo, 2, lang)}; {_num(hi, 2, lang)}]."
    return f"Reliability of {name}: α = {_num(alpha)}, 95% CI [{_num(lo)}, {_num(hi)}]."


def cfa_sentence(fit: dict[str, float], lang: Lang = "en") -> str:
    chi = f"χ²({fit['df']:.0f}) = {_num(fit['chisq'], 2, lang)}, {_p(fit['pvalue'], lang)}"
    idx = (f"CFI = {_num(fit['cfi'], 3, lang)}, TLI = {_num(fit['tli'], 3, lang)}, RMSEA = {_num(fit['rmsea'], 3, lang)} "
           f"[{_num(fit['rmsea_ci_low'], 3, lang)}; {_num(fit['rmsea_ci_high'], 3, lang)}], SRMR = {_num(fit['srmr'], 3, lang)}")
    if lang == "id":
        return f"Model lima faktor berkorelasi menghasilkan {chi}; {idx}."
    return f"The correlated five-factor model gave {chi}; {idx}."


def compare_sentence(cmp: Any, lang: Lang = "en") -> str:
    p, q = cmp.servperf.fit, cmp.servqual.fit
    jq = cmp.j_test["servqual_vs_servperf"]["p_value"]
    jp = cmp.j_test["servperf_vs_servqual"]["p_value"]
    d = cmp.r2_difference
    if lang == "id":
        return (f"SERVPERF menjelaskan R² = {_num(p['r2'], 3, lang)} variasi kepuasan, SERVQUAL R² = {_num(q['r2'], 3, lang)} "
                f"(selisih {_num(d['estimate'], 3, lang)}, IK 95% [{_num(d['ci_low'], 3, lang)}; {_num(d['ci_high'], 3, lang)}]). "
                f"Uji J: menambahkan prediksi SERVPERF ke model SERVQUAL {_p(jq, lang)}; sebaliknya {_p(jp, lang)}.")
    return (f"SERVPERF explained R² = {_num(p['r2'], 3)} of satisfaction and SERVQUAL R² = {_num(q['r2'], 3)} "
            f"(difference {_num(d['estimate'], 3)}, 95% CI [{_num(d['ci_low'], 3)}, {_num(d['ci_high'], 3)}]). "
            f"J tests: adding SERVPERF's predictions to SERVQUAL, {_p(jq, lang)}; the reverse, {_p(jp, lang)}.")
