"""Every label of a report in English and Bahasa Indonesia, in one place.

Dimension names come from the instrument (``Instrument.translations``); everything
else a report prints is looked up here by key.  A missing key is a bug the tests
catch (``label`` raises KeyError), never an untranslated string in a thesis.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "id"]
LANGS: tuple[str, ...] = ("en", "id")

#: section and table titles, provenance fields, notes and fixed phrases
LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "Service quality report", "id": "Laporan kualitas pelayanan"},
    "provenance": {"en": "About this report", "id": "Tentang laporan ini"},
    "date": {"en": "Date", "id": "Tanggal"},
    "servmodels_version": {"en": "servmodels version", "id": "Versi servmodels"},
    "input_file": {"en": "Input file", "id": "Berkas data"},
    "input_sha256": {"en": "SHA-256 of the input", "id": "SHA-256 berkas data"},
    "instrument": {"en": "Instrument", "id": "Instrumen"},
    "scale": {"en": "Scale", "id": "Skala"},
    "reverse_keyed": {"en": "Reverse-keyed items", "id": "Butir terbalik (unfavorable)"},
    "respondents": {"en": "Respondents", "id": "Responden"},
    "used_dropped": {"en": "{used} used, {dropped} dropped", "id": "{used} dianalisis, {dropped} dikeluarkan"},
    "dropped_because": {"en": "because of missing answers (listwise)", "id": "karena jawaban kosong (listwise)"},
    "seed": {"en": "Random seed", "id": "Benih acak (seed)"},
    "n_resamples": {"en": "Bootstrap resamples", "id": "Jumlah sampel bootstrap"},
    "cv_repeats": {"en": "Cross-validation repeats (10-fold)", "id": "Ulangan validasi silang (10 lipatan)"},
    "pa_iterations": {"en": "Parallel-analysis data sets", "id": "Data acak analisis paralel"},
    "estimator": {"en": "CFA estimator", "id": "Estimator CFA"},
    "none": {"en": "none", "id": "tidak ada"},
    "sample": {"en": "Respondents by {group}", "id": "Responden menurut {group}"},
    "items": {"en": "Items: mean scores and gaps", "id": "Butir: rata-rata skor dan kesenjangan"},
    "dimensions": {"en": "Dimensions: mean scores and gaps", "id": "Dimensi: rata-rata skor dan kesenjangan"},
    "item_analysis": {"en": "Item analysis ({scores})", "id": "Analisis butir ({scores})"},
    "reliability": {"en": "Reliability and convergent validity", "id": "Reliabilitas dan validitas konvergen"},
    "htmt": {"en": "HTMT ratios (discriminant validity)", "id": "Rasio HTMT (validitas diskriminan)"},
    "cfa_fit": {"en": "Confirmatory factor analysis: fit", "id": "Analisis faktor konfirmatori: kecocokan model"},
    "cfa_loadings": {"en": "Confirmatory factor analysis: loadings", "id": "Analisis faktor konfirmatori: muatan faktor"},
    "efa_loadings": {"en": "Exploratory factor analysis: loadings", "id": "Analisis faktor eksploratori: muatan faktor"},
    "compare": {"en": "SERVQUAL versus SERVPERF", "id": "SERVQUAL dibandingkan SERVPERF"},
    "ipa": {"en": "Importance–performance analysis", "id": "Analisis kepentingan–kinerja"},
    "invariance": {"en": "Measurement invariance across {group}", "id": "Invariansi pengukuran antar-{group}"},
    "ikm": {"en": "Community satisfaction index (IKM): elements", "id": "Indeks Kepuasan Masyarakat (IKM): unsur pelayanan"},
    "invariance_group": {"en": "Invariance across", "id": "Invariansi antar"},
    "warnings": {"en": "Warnings", "id": "Peringatan"},
    "skipped": {"en": "Analyses not run", "id": "Analisis yang tidak dijalankan"},
    "figures": {"en": "Figures", "id": "Gambar"},
    "sentences": {"en": "Reporting sentences", "id": "Kalimat pelaporan"},
    "table": {"en": "Table", "id": "Tabel"},
    "figure": {"en": "Figure", "id": "Gambar"},
    "note": {"en": "Note", "id": "Catatan"},
    # notes under tables
    "note_boot": {"en": "{level}% {method} bootstrap intervals ({n} resamples); p adjusted by {adjust}.",
                  "id": "Interval bootstrap {method} {level}% ({n} sampel ulang); p disesuaikan dengan metode {adjust}."},
    "note_items": {"en": "Critical r = {r} (two-sided, 5%); corrected item-total correlations.",
                   "id": "r kritis = {r} (dua sisi, 5%); korelasi butir-total terkoreksi."},
    "note_reliability": {"en": "Alpha intervals: {level}% bootstrap ({n} resamples). KMO = {kmo}.",
                         "id": "Interval alfa: bootstrap {level}% ({n} sampel ulang). KMO = {kmo}."},
    "note_htmt": {"en": "Values below 0.85 support discriminant validity.",
                  "id": "Nilai di bawah 0,85 mendukung validitas diskriminan."},
    "note_efa": {"en": "{n} factors, {method}, rotation {rotation}.", "id": "{n} faktor, {method}, rotasi {rotation}."},
    "note_invariance": {"en": "Each model against the one above it ({method}); a drop in CFI of more than 0.01 "
                              "suggests non-invariance (Chen, 2007).",
                        "id": "Setiap model dibandingkan dengan model di atasnya ({method}); penurunan CFI lebih dari "
                              "0,01 menandakan ketidakinvarianan (Chen, 2007)."},
    "note_ikm": {"en": "IKM = {index} ({level}% bootstrap interval [{low}; {high}], {n} resamples): grade {grade} "
                       "({label}); PermenPANRB 14/2017.",
                 "id": "IKM = {index} (interval bootstrap {level}% [{low}; {high}], {n} sampel ulang): mutu {grade} "
                       "({label}); PermenPANRB 14/2017."},
    "synthetic": {"en": "Bundled SYNTHETIC example data (not real respondents).",
                  "id": "Data contoh SINTETIS (bukan responden sebenarnya)."},
    # figures
    "fig_gap_dims": {"en": "Dimension gaps (P − E) with {level}% bootstrap intervals",
                     "id": "Kesenjangan dimensi (P − E) dengan interval bootstrap {level}%"},
    "fig_gap_items": {"en": "Item gaps with {level}% bootstrap intervals", "id": "Kesenjangan butir dengan interval bootstrap {level}%"},
    "fig_profile": {"en": "Expectation and perception profile", "id": "Profil harapan dan kinerja"},
    "fig_ipa": {"en": "Importance–performance quadrants", "id": "Kuadran kepentingan–kinerja"},
    "fig_scree": {"en": "Scree plot and parallel analysis", "id": "Scree plot dan analisis paralel"},
    "fig_cfa": {"en": "CFA path diagram with standardized loadings", "id": "Diagram jalur CFA dengan muatan terstandar"},
    "axis_gap": {"en": "Gap (P − E)", "id": "Kesenjangan (P − E)"},
    "axis_item": {"en": "Item", "id": "Butir"},
    "axis_mean": {"en": "Mean score", "id": "Rata-rata skor"},
    "axis_importance": {"en": "Importance", "id": "Kepentingan"},
    "axis_performance": {"en": "Performance", "id": "Kinerja"},
    "axis_factor": {"en": "Factor", "id": "Faktor"},
    "axis_eigenvalue": {"en": "Eigenvalue", "id": "Nilai eigen"},
    "legend_random": {"en": "95th percentile of random data", "id": "Persentil ke-95 data acak"},
    "legend_observed": {"en": "Observed", "id": "Data"},
    # reasons an analysis was not run (analysis.py's fixed texts)
    "needs expectation (E) and perception (P) answers": {
        "en": "needs expectation (E) and perception (P) answers",
        "id": "memerlukan jawaban harapan (E) dan kinerja (P)"},
    "needs an overall-satisfaction column (--outcome)": {
        "en": "needs an overall-satisfaction column (--outcome)",
        "id": "memerlukan kolom kepuasan keseluruhan (--outcome)"},
    "needs expectation (E) and perception (P) answers and an outcome column": {
        "en": "needs expectation (E) and perception (P) answers and an outcome column",
        "id": "memerlukan jawaban harapan (E) dan kinerja (P) serta kolom kepuasan"},
    "needs a group column (--group)": {"en": "needs a group column (--group)",
                                       "id": "memerlukan kolom kelompok (--group)"},
    "needs a questionnaire answered once (the IKM elements, e.g. preset ikm9)": {
        "en": "needs a questionnaire answered once (the IKM elements, e.g. preset ikm9)",
        "id": "memerlukan kuesioner yang dijawab satu kali (unsur IKM, misalnya preset ikm9)"},
    # analysis names
    "an_scores": {"en": "scores", "id": "skor"}, "an_bootstrap": {"en": "gap bootstrap", "id": "bootstrap kesenjangan"},
    "an_items": {"en": "item analysis", "id": "analisis butir"},
    "an_reliability": {"en": "reliability and validity", "id": "reliabilitas dan validitas"},
    "an_cfa": {"en": "confirmatory factor analysis", "id": "analisis faktor konfirmatori"},
    "an_efa": {"en": "exploratory factor analysis", "id": "analisis faktor eksploratori"},
    "an_compare": {"en": "SERVQUAL versus SERVPERF", "id": "SERVQUAL dibandingkan SERVPERF"},
    "an_ipa": {"en": "importance–performance analysis", "id": "analisis kepentingan–kinerja"},
    "an_invariance": {"en": "measurement invariance", "id": "invariansi pengukuran"},
    "an_ikm": {"en": "community satisfaction index (IKM)", "id": "indeks kepuasan masyarakat (IKM)"},
    "an_data": {"en": "data", "id": "data"},
}

#: table column headers by column key
COLUMNS: dict[str, dict[str, str]] = {
    "group": {"en": "Group", "id": "Kelompok"}, "n": {"en": "n", "id": "n"},
    "item": {"en": "Item", "id": "Butir"}, "dimension": {"en": "Dimension", "id": "Dimensi"},
    "expectation": {"en": "Expectation", "id": "Harapan"}, "perception": {"en": "Perception", "id": "Kinerja"},
    "minimum": {"en": "Minimum", "id": "Minimum"}, "desired": {"en": "Desired", "id": "Diinginkan"},
    "gap": {"en": "Gap", "id": "Kesenjangan"}, "adequacy": {"en": "Adequacy", "id": "Kecukupan"},
    "superiority": {"en": "Superiority", "id": "Keunggulan"},
    "ci_low": {"en": "CI lower", "id": "IK bawah"}, "ci_high": {"en": "CI upper", "id": "IK atas"},
    "p_adjusted": {"en": "p (adj.)", "id": "p (disesuaikan)"},
    "mean": {"en": "M", "id": "Rerata"}, "sd": {"en": "SD", "id": "SB"},
    "corrected_item_total_r": {"en": "Corrected item-total r", "id": "r butir-total terkoreksi"},
    "alpha_if_deleted": {"en": "α if deleted", "id": "α jika dihapus"},
    "alpha": {"en": "α", "id": "α"}, "alpha_ci_low": {"en": "α CI lower", "id": "α IK bawah"},
    "alpha_ci_high": {"en": "α CI upper", "id": "α IK atas"}, "omega": {"en": "ω", "id": "ω"},
    "composite_reliability": {"en": "CR", "id": "CR"}, "ave": {"en": "AVE", "id": "AVE"},
    "estimator": {"en": "Estimator", "id": "Estimator"},
    "chisq": {"en": "χ²", "id": "χ²"}, "df": {"en": "df", "id": "db"}, "pvalue": {"en": "p", "id": "p"},
    "cfi": {"en": "CFI", "id": "CFI"}, "tli": {"en": "TLI", "id": "TLI"}, "rmsea": {"en": "RMSEA", "id": "RMSEA"},
    "rmsea_ci_low": {"en": "RMSEA CI lower", "id": "RMSEA IK bawah"},
    "rmsea_ci_high": {"en": "RMSEA CI upper", "id": "RMSEA IK atas"}, "srmr": {"en": "SRMR", "id": "SRMR"},
    "chisq_scaled": {"en": "χ² (scaled)", "id": "χ² (terskala)"}, "pvalue_scaled": {"en": "p (scaled)", "id": "p (terskala)"},
    "cfi_robust": {"en": "CFI (robust)", "id": "CFI (robust)"}, "tli_robust": {"en": "TLI (robust)", "id": "TLI (robust)"},
    "rmsea_robust": {"en": "RMSEA (robust)", "id": "RMSEA (robust)"},
    "factor": {"en": "Factor", "id": "Faktor"}, "estimate": {"en": "Loading", "id": "Muatan"},
    "se": {"en": "SE", "id": "GB"}, "std_all": {"en": "Standardized", "id": "Terstandar"},
    "model": {"en": "Model", "id": "Model"}, "r2": {"en": "R²", "id": "R²"},
    "adj_r2": {"en": "Adjusted R²", "id": "R² disesuaikan"}, "aic": {"en": "AIC", "id": "AIC"},
    "bic": {"en": "BIC", "id": "BIC"}, "cv_r2": {"en": "Cross-validated R²", "id": "R² validasi silang"},
    "importance": {"en": "Importance", "id": "Kepentingan"}, "performance": {"en": "Performance", "id": "Kinerja"},
    "quadrant": {"en": "Quadrant", "id": "Kuadran"},
    "p_I": {"en": "P(I)", "id": "P(I)"}, "p_II": {"en": "P(II)", "id": "P(II)"},
    "p_III": {"en": "P(III)", "id": "P(III)"}, "p_IV": {"en": "P(IV)", "id": "P(IV)"},
    "chisq_diff": {"en": "Δχ²", "id": "Δχ²"}, "df_diff": {"en": "Δdf", "id": "Δdb"},
    "p_diff": {"en": "p (Δχ²)", "id": "p (Δχ²)"}, "delta_cfi": {"en": "ΔCFI", "id": "ΔCFI"},
    "delta_rmsea": {"en": "ΔRMSEA", "id": "ΔRMSEA"}, "delta_cfi_robust": {"en": "ΔCFI (robust)", "id": "ΔCFI (robust)"},
    "delta_rmsea_robust": {"en": "ΔRMSEA (robust)", "id": "ΔRMSEA (robust)"},
    "code": {"en": "Code", "id": "Kode"}, "element": {"en": "Element", "id": "Unsur"},
    "total": {"en": "Total", "id": "Jumlah"}, "weighted_mean": {"en": "Weighted mean", "id": "Rerata tertimbang"},
}

#: IPA quadrant names (Martilla & James 1977)
QUADRANT_NAMES: dict[str, dict[str, str]] = {
    "I": {"en": "concentrate here", "id": "prioritaskan perbaikan"},
    "II": {"en": "keep up the good work", "id": "pertahankan"},
    "III": {"en": "low priority", "id": "prioritas rendah"},
    "IV": {"en": "possible overkill", "id": "berlebihan"},
}


def label(key: str, lang: str, **fields: object) -> str:
    """The text of ``key`` in ``lang``, with ``{fields}`` filled in.

    Examples
    --------
    >>> label("sample", "id", group="desa")
    'Responden menurut desa'
    """
    text = LABELS[key][lang]
    return text.format(**fields) if fields else text


def column(key: str, lang: str) -> str:
    """A column header; unknown keys (factor names F1..., dimension names in HTMT) are returned as they are."""
    entry = COLUMNS.get(key)
    return entry[lang] if entry else key


def reason(text: str | None, lang: str) -> str:
    """A skip reason in ``lang``: the fixed reasons are translated, error messages kept as they are."""
    if text is None:
        return ""
    entry = LABELS.get(text)
    return entry[lang] if entry else text
