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
    "cfa_modindices": {"en": "Confirmatory factor analysis: largest modification indices",
                       "id": "Analisis faktor konfirmatori: indeks modifikasi terbesar"},
    "latent_gap": {"en": "Latent gaps beside observed gaps", "id": "Kesenjangan laten dan kesenjangan teramati"},
    "latent_invariance": {"en": "Latent gap model: invariance between expectation and perception",
                          "id": "Model kesenjangan laten: invariansi antara harapan dan kinerja"},
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
    "note_modindices": {
        "en": "Score tests (lavaan modindices) for parameters the model fixes or leaves out; MI above 3.84 is "
              "significant at .05 (1 df). EPC: expected change of the parameter if freed. Freeing a parameter "
              "for its MI alone capitalises on chance: free only what the theory of the instrument supports.",
        "id": "Uji skor (modindices lavaan) untuk parameter yang ditetapkan atau tidak dimasukkan dalam model; "
              "MI di atas 3,84 signifikan pada taraf 0,05 (db 1). EPC: perkiraan perubahan parameter jika "
              "dibebaskan. Membebaskan parameter hanya karena MI-nya memanfaatkan kebetulan: bebaskan hanya yang "
              "didukung teori instrumen."},
    "note_htmt": {"en": "Values below 0.85 support discriminant validity.",
                  "id": "Nilai di bawah 0,85 mendukung validitas diskriminan."},
    "note_latent_gap": {
        "en": "Latent gap: mean of the perception factor with the expectation factor's mean fixed at 0, under {model} "
              "invariance of loadings and intercepts, in {unit}; {level}% Wald intervals. Observed gap: mean P − E with "
              "{level}% {observed} intervals.",
        "id": "Kesenjangan laten: rata-rata faktor kinerja dengan rata-rata faktor harapan ditetapkan 0, di bawah "
              "invariansi {model} muatan dan intersep, dalam {unit}; interval Wald {level}%. Kesenjangan teramati: "
              "rata-rata P − E dengan interval {observed} {level}%."},
    "model_scalar": {"en": "scalar", "id": "skalar"},
    "model_partial_scalar": {"en": "partial scalar", "id": "skalar parsial"},
    "unit_marker": {"en": "the units of each dimension's first item", "id": "satuan butir pertama setiap dimensi"},
    "unit_std_lv": {"en": "standard deviations of the expectation factor",
                    "id": "simpangan baku faktor harapan"},
    "observed_bca": {"en": "BCa bootstrap ({n} resamples)", "id": "bootstrap BCa ({n} sampel ulang)"},
    "observed_t": {"en": "paired t", "id": "t berpasangan"},
    "note_freed": {"en": "Intercepts not held equal (partial invariance): items {items}.",
                   "id": "Intersep yang tidak disamakan (invariansi parsial): butir {items}."},
    "note_scalar_rejected": {
        "en": "Full scalar invariance is rejected (χ² difference p < .05 or ΔCFI ≤ −0.01); intercepts that differ "
              "(score tests, Holm p < .05): {items}.",
        "id": "Invariansi skalar penuh ditolak (uji selisih χ² p < 0,05 atau ΔCFI ≤ −0,01); intersep yang berbeda "
              "(uji skor, p Holm < 0,05): {items}."},
    "note_latent_invariance": {"en": "Each model is compared with the one before it ({method}).",
                               "id": "Setiap model dibandingkan dengan model sebelumnya ({method})."},
    "chi-square difference": {"en": "chi-square difference test", "id": "uji selisih chi-kuadrat"},
    "Satorra-Bentler (2001) scaled difference": {"en": "Satorra-Bentler (2001) scaled difference test",
                                                 "id": "uji selisih terskala Satorra-Bentler (2001)"},
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
    "an_latent_gap": {"en": "latent gap model", "id": "model kesenjangan laten"},
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
    "parameter": {"en": "Parameter", "id": "Parameter"}, "mi": {"en": "MI", "id": "MI"},
    "epc": {"en": "EPC", "id": "EPC"}, "sepc_all": {"en": "EPC (standardized)", "id": "EPC (terstandar)"},
    "model": {"en": "Model", "id": "Model"}, "r2": {"en": "R²", "id": "R²"},
    "adj_r2": {"en": "Adjusted R²", "id": "R² disesuaikan"}, "aic": {"en": "AIC", "id": "AIC"},
    "bic": {"en": "BIC", "id": "BIC"}, "cv_r2": {"en": "Cross-validated R²", "id": "R² validasi silang"},
    "importance": {"en": "Importance", "id": "Kepentingan"}, "performance": {"en": "Performance", "id": "Kinerja"},
    "quadrant": {"en": "Quadrant", "id": "Kuadran"},
    "latent_gap": {"en": "Latent gap", "id": "Kesenjangan laten"}, "latent_se": {"en": "SE", "id": "GB"},
    "latent_ci_low": {"en": "CI lower", "id": "IK bawah"}, "latent_ci_high": {"en": "CI upper", "id": "IK atas"},
    "p_value": {"en": "p", "id": "p"},
    "observed_gap": {"en": "Observed gap", "id": "Kesenjangan teramati"},
    "observed_ci_low": {"en": "Observed CI lower", "id": "IK bawah teramati"},
    "observed_ci_high": {"en": "Observed CI upper", "id": "IK atas teramati"},
    "chisq_diff": {"en": "Δχ²", "id": "Δχ²"}, "df_diff": {"en": "Δdf", "id": "Δdb"},
    "p_diff": {"en": "p (Δχ²)", "id": "p (Δχ²)"}, "delta_cfi": {"en": "ΔCFI", "id": "ΔCFI"},
    "p_I": {"en": "P(I)", "id": "P(I)"}, "p_II": {"en": "P(II)", "id": "P(II)"},
    "p_III": {"en": "P(III)", "id": "P(III)"}, "p_IV": {"en": "P(IV)", "id": "P(IV)"},
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


#: invariance steps (model column of the latent gap model's invariance table)
MODEL_NAMES: dict[str, dict[str, str]] = {
    "configural": {"en": "configural", "id": "konfigural"},
    "metric": {"en": "metric", "id": "metrik"},
    "scalar": {"en": "scalar", "id": "skalar"},
    "strict": {"en": "strict", "id": "ketat"},
    "partial_scalar": {"en": "partial scalar", "id": "skalar parsial"},
    "partial_strict": {"en": "partial strict", "id": "ketat parsial"},
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


#: study planning (servmodels.planning): methods paragraphs a thesis writer can paste, and plot labels.
#: Kept apart from LABELS so that planning texts and report texts can change independently.
PLANNING: dict[str, dict[str, str]] = {
    "test_close": {"en": "close fit", "id": "kecocokan dekat (close fit)"},
    "test_not_close": {"en": "not-close fit", "id": "ketidakcocokan dekat (not-close fit)"},
    "test_exact": {"en": "exact fit", "id": "kecocokan sempurna (exact fit)"},
    "rmsea_power": {
        "en": "a sample of n = {n} respondents gives a power of {power}",
        "id": "sampel sebanyak n = {n} responden menghasilkan kuasa (power) sebesar {power}"},
    "rmsea_n": {
        "en": "n = {n} respondents are needed for a power above {target} (power at n = {n}: {power})",
        "id": "diperlukan n = {n} responden agar kuasa (power) melebihi {target} (kuasa pada n = {n}: {power})"},
    "rmsea_groups": {
        "en": " ({groups} groups of about {per_group} respondents each)",
        "id": " ({groups} kelompok, masing-masing sekitar {per_group} responden)"},
    "rmsea_methods": {
        "en": "The sample size for the confirmatory factor analysis was planned with the RMSEA-based power analysis of "
              "MacCallum, Browne and Sugawara (1996). For the test of {test} (H0: RMSEA = {rmsea0} against "
              "RMSEA = {rmsea_a}; df = {df}{df_source}; α = {alpha}), {result}. The calculation assumes multivariate "
              "normal data, a correctly counted number of degrees of freedom and RMSEA values fixed before the study; "
              "it concerns the overall test of model fit only, not single loadings or gaps.",
        "id": "Ukuran sampel untuk analisis faktor konfirmatori direncanakan dengan analisis kuasa berbasis RMSEA dari "
              "MacCallum, Browne dan Sugawara (1996). Untuk uji {test} (H0: RMSEA = {rmsea0} terhadap "
              "RMSEA = {rmsea_a}; db = {df}{df_source}; α = {alpha}), {result}. Perhitungan ini mengasumsikan data "
              "berdistribusi normal multivariat, derajat bebas yang dihitung dengan benar, dan nilai RMSEA yang "
              "ditetapkan sebelum penelitian; hasilnya hanya berlaku untuk uji kecocokan model secara keseluruhan, "
              "bukan untuk muatan faktor atau kesenjangan tertentu."},
    "df_source": {"en": ", the {structure} model of the {instrument} items", "id": ", model {structure} butir {instrument}"},
    "nested_methods": {
        "en": "The power to detect the difference in fit between two nested models (A with df = {df_a}, B with "
              "df = {df_b}) was computed following MacCallum, Browne and Cai (2006): H0: RMSEA_A = {rmsea0_a} and "
              "RMSEA_B = {rmsea0_b} against RMSEA_A = {rmsea1_a} and RMSEA_B = {rmsea1_b}, α = {alpha}; {result}. "
              "The calculation assumes multivariate normal data, correctly counted degrees of freedom and RMSEA "
              "values fixed before the study.",
        "id": "Kuasa untuk mendeteksi perbedaan kecocokan antara dua model bersarang (A dengan db = {df_a}, B dengan "
              "db = {df_b}) dihitung menurut MacCallum, Browne dan Cai (2006): H0: RMSEA_A = {rmsea0_a} dan "
              "RMSEA_B = {rmsea0_b} terhadap RMSEA_A = {rmsea1_a} dan RMSEA_B = {rmsea1_b}, α = {alpha}; {result}. "
              "Perhitungan ini mengasumsikan data berdistribusi normal multivariat, derajat bebas yang dihitung "
              "dengan benar, dan nilai RMSEA yang ditetapkan sebelum penelitian."},
    "gap_methods": {
        "en": "The sample size was chosen so that the {level}% confidence interval of {what} (P − E) is at most "
              "±{half_width} scale points wide. Assuming a standard deviation of the gap of {sd} ({sd_source}), "
              "a simple random sample needs n = {n_srs} respondents (the smallest n with "
              "t(n − 1) × SD / √n ≤ {half_width}).{cluster} The calculation assumes that the standard deviation of "
              "the gap is as stated{independence} and that the t interval suits the mean gap.",
        "id": "Ukuran sampel ditentukan agar interval kepercayaan {level}% untuk {what} (P − E) memiliki lebar "
              "setengah paling besar ±{half_width} poin skala. Dengan asumsi simpangan baku kesenjangan sebesar "
              "{sd} ({sd_source}), sampel acak sederhana memerlukan n = {n_srs} responden (n terkecil dengan "
              "t(n − 1) × SB / √n ≤ {half_width}).{cluster} Perhitungan ini mengasumsikan simpangan baku "
              "kesenjangan sesuai nilai tersebut{independence}, serta interval t sesuai untuk rata-rata "
              "kesenjangan."},
    "gap_what_dimension": {"en": "each dimension's mean gap", "id": "rata-rata kesenjangan setiap dimensi"},
    "gap_what_item": {"en": "each item's mean gap", "id": "rata-rata kesenjangan setiap butir"},
    "gap_what_overall": {"en": "the overall mean gap", "id": "rata-rata kesenjangan keseluruhan"},
    "gap_what_single": {"en": "a mean gap", "id": "rata-rata kesenjangan"},
    "sd_assumed": {"en": "assumed", "id": "diasumsikan"},
    "sd_pilot": {"en": "from a pilot of n = {n}; the largest, {binding}", "id": "dari studi pendahuluan (pilot) dengan "
                 "n = {n}; nilai terbesar, {binding}"},
    "gap_cluster_size": {
        "en": " Because respondents are sampled in villages of m = {m} with an assumed intraclass correlation of "
              "{icc}, the design effect 1 + (m − 1) × ICC = {deff} raises this to n = {n} respondents ({k} villages).",
        "id": " Karena responden diambil per desa dengan m = {m} responden per desa dan korelasi intrakelas (ICC) "
              "diasumsikan {icc}, efek desain 1 + (m − 1) × ICC = {deff} menaikkan kebutuhan menjadi n = {n} "
              "responden ({k} desa)."},
    "gap_n_clusters": {
        "en": " With {k} villages and an assumed intraclass correlation of {icc}, {m} respondents per village are "
              "needed (design effect 1 + (m − 1) × ICC = {deff}), n = {n} in total.",
        "id": " Dengan {k} desa dan korelasi intrakelas (ICC) diasumsikan {icc}, diperlukan {m} responden per desa "
              "(efek desain 1 + (m − 1) × ICC = {deff}), total n = {n}."},
    "independent": {"en": ", that respondents are independent", "id": ", responden saling bebas"},
    "independent_villages": {"en": ", that the intraclass correlation is as assumed",
                             "id": ", korelasi intrakelas sesuai asumsi"},
    "sim_methods": {
        "en": "The sample size was examined by Monte Carlo simulation ({replications} replications per sample size, "
              "seed {seed}). Expectation and perception answers on a {lo}–{hi} scale were generated from a "
              "{n_factors}-factor model with normal latent factors cut at item thresholds ({source}), in "
              "{villages} villages (village effect SD {village_sd}). In every replication the confirmatory factor "
              "model of the {cfa_scores} items was fitted, each dimension's gap was tested against zero ({test}, "
              "α = {alpha}){compare}. {finding} These results hold only as far as the assumed model describes the "
              "population.",
        "id": "Ukuran sampel dikaji dengan simulasi Monte Carlo ({replications} replikasi untuk setiap ukuran sampel, "
              "seed {seed}). Jawaban harapan dan kinerja pada skala {lo}–{hi} dibangkitkan dari model {n_factors} "
              "faktor dengan faktor laten berdistribusi normal yang dipotong pada ambang butir ({source}), di "
              "{villages} desa (SB efek desa {village_sd}). Pada setiap replikasi, model faktor konfirmatori butir "
              "{cfa_scores} diestimasi, kesenjangan setiap dimensi diuji terhadap nol ({test}, α = {alpha}){compare}. "
              "{finding} Hasil ini hanya berlaku sejauh model yang diasumsikan menggambarkan populasi."},
    "sim_source_pilot": {
        "en": "thresholds, loadings and factor correlations estimated from {correlation} correlations of a pilot of "
              "n = {n}",
        "id": "ambang, muatan, dan korelasi faktor diestimasi dari korelasi {correlation} studi pendahuluan (pilot) "
              "dengan n = {n}"},
    "sim_source_assumed": {
        "en": "assumed loading {loading}, factor correlation {factor_correlation}, E–P correlation {set_correlation}",
        "id": "diasumsikan muatan {loading}, korelasi antarfaktor {factor_correlation}, korelasi E–P {set_correlation}"},
    "sim_compare": {"en": ", and SERVQUAL was compared with SERVPERF (J tests)",
                    "id": ", dan SERVQUAL dibandingkan dengan SERVPERF (uji J)"},
    "sim_finding": {
        "en": "At n = {n}, the factor model converged to a proper solution in {conv}% of replications, the power "
              "to detect a dimension's gap ranged from {pmin} ({dmin}) to {pmax} ({dmax}), and the {level}% "
              "intervals covered the true gaps in {cov}% of cases.",
        "id": "Pada n = {n}, model faktor konvergen dengan solusi yang wajar pada {conv}% replikasi, kuasa untuk "
              "mendeteksi kesenjangan dimensi berkisar dari {pmin} ({dmin}) sampai {pmax} ({dmax}), dan interval "
              "{level}% mencakup kesenjangan sebenarnya pada {cov}% kasus."},
    "sim_recommend": {
        "en": "n = {n} is the smallest sample size examined at which every dimension's gap is detected with a power "
              "of at least {target} and the factor model converges properly in at least 95% of replications. ",
        "id": "n = {n} adalah ukuran sampel terkecil yang dikaji dengan kuasa minimal {target} untuk kesenjangan "
              "setiap dimensi dan model faktor yang konvergen dengan wajar pada sedikitnya 95% replikasi. "},
    "sim_none": {
        "en": "None of the sample sizes examined reached a power of {target} for every dimension with proper "
              "convergence in 95% of replications. ",
        "id": "Tidak satu pun ukuran sampel yang dikaji mencapai kuasa {target} untuk setiap dimensi dengan "
              "konvergensi wajar pada 95% replikasi. "},
    "test_t": {"en": "paired t test", "id": "uji t berpasangan"},
    "test_bootstrap": {"en": "{method} bootstrap with {n} resamples", "id": "bootstrap {method} dengan {n} sampel ulang"},
    "test_cluster_bootstrap": {"en": "{method} cluster bootstrap by village with {n} resamples",
                               "id": "bootstrap klaster {method} per desa dengan {n} sampel ulang"},
    "axis_n": {"en": "Sample size n", "id": "Ukuran sampel n"},
    "axis_power": {"en": "Power", "id": "Kuasa (power)"},
    "axis_half_width": {"en": "CI half-width (scale points)", "id": "Lebar setengah IK (poin skala)"},
    "axis_rate": {"en": "Power / rate", "id": "Kuasa / proporsi"},
    "fig_rmsea": {"en": "Power of the RMSEA test of {test} (df = {df}, α = {alpha})",
                  "id": "Kuasa uji RMSEA {test} (db = {df}, α = {alpha})"},
    "fig_nested": {"en": "Power of the nested-model test (df {df_a} vs {df_b}, α = {alpha})",
                   "id": "Kuasa uji model bersarang (db {df_a} vs {df_b}, α = {alpha})"},
    "fig_gap": {"en": "Half-width of the {level}% CI of a mean gap", "id": "Lebar setengah IK {level}% rata-rata kesenjangan"},
    "fig_sim": {"en": "Monte Carlo power by sample size ({replications} replications)",
                "id": "Kuasa Monte Carlo menurut ukuran sampel ({replications} replikasi)"},
    "legend_target": {"en": "target", "id": "target"},
    "legend_convergence": {"en": "CFA proper solution", "id": "CFA solusi wajar"},
}


def planning_text(key: str, lang: str, **fields: object) -> str:
    """A planning text (:data:`PLANNING`) in ``lang`` with ``{fields}`` filled in.

    Examples
    --------
    >>> planning_text("axis_power", "id")
    'Kuasa (power)'
    """
    text = PLANNING[key][lang]
    return text.format(**fields) if fields else text
