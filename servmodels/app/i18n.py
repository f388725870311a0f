"""The app's words in English and Bahasa Indonesia.

Words a report also prints (analysis names, "Instrument", "Scale", "Random seed",
column headers, "Warnings", ...) are taken from the report catalogue
(:mod:`servmodels.render.catalogue`), so the page and the report say the same;
the rest, the page's own, are here.  :func:`strings` gives the page both languages
at once, so switching language never reloads it or loses what was chosen.
"""

from __future__ import annotations

from ..analysis import ANALYSES, OPTIONAL_ANALYSES
from ..render.catalogue import COLUMNS, LABELS, LANGS

__all__ = ["UI", "strings"]

#: the page's own words; ``{name}`` fields are filled in by the page
UI: dict[str, dict[str, str]] = {
    "app_title": {"en": "servmodels: service-quality survey analysis", "id": "servmodels: analisis survei kualitas pelayanan"},
    "local_note": {"en": "Runs on this computer only: your data are not sent anywhere.",
                   "id": "Berjalan hanya di komputer ini: data Anda tidak dikirim ke mana pun."},
    "language": {"en": "Language", "id": "Bahasa"},
    "step_file": {"en": "1. Survey file", "id": "1. Berkas survei"},
    "file_help": {"en": "CSV, Excel, SPSS (.sav), Stata (.dta) or Parquet; at most {mb} MB.",
                  "id": "CSV, Excel, SPSS (.sav), Stata (.dta) atau Parquet; paling besar {mb} MB."},
    "choose_file": {"en": "Survey file", "id": "Berkas survei"},
    "use_example": {"en": "Use the bundled example (synthetic data)", "id": "Pakai data contoh (data sintetis)"},
    "uploading": {"en": "Reading the file…", "id": "Membaca berkas…"},
    "file_summary": {"en": "{name}: {rows} rows, {cols} columns", "id": "{name}: {rows} baris, {cols} kolom"},
    "sheet": {"en": "Sheet", "id": "Lembar kerja"},
    "preview": {"en": "The first rows", "id": "Baris-baris pertama"},
    "notes": {"en": "How the file was read", "id": "Cara berkas dibaca"},
    "step_columns": {"en": "2. Columns and instrument", "id": "2. Kolom dan instrumen"},
    "custom": {"en": "custom", "id": "buatan sendiri"},
    "custom_help": {
        "en": "One line per dimension: its name, a colon, its items, e.g. 'tangibles: 1-5'. Items are numbers or names "
              "joined to the score set (E1, P1), or the column names themselves for a questionnaire answered once. "
              "A whole instrument in YAML (with 'dimensions:') works too.",
        "id": "Satu baris per dimensi: nama, titik dua, butir-butirnya, misalnya 'bukti fisik: 1-5'. Butir berupa nomor "
              "atau nama yang digabung dengan set skor (E1, P1), atau nama kolom itu sendiri untuk kuesioner yang dijawab "
              "satu kali. Instrumen lengkap dalam YAML (dengan 'dimensions:') juga bisa."},
    "sets_EP": {"en": "expectation and perception (E, P)", "id": "harapan dan kinerja (E, P)"},
    "sets_P": {"en": "perception only (P)", "id": "kinerja saja (P)"},
    "sets_once": {"en": "answered once (items are column names)", "id": "dijawab satu kali (butir = nama kolom)"},
    "apply": {"en": "Apply", "id": "Terapkan"},
    "found": {"en": "{found} of {total} item columns found in the file", "id": "{found} dari {total} kolom butir ditemukan dalam berkas"},
    "score_sets": {"en": "Score sets", "id": "Set skor"},
    "mapping": {"en": "Which column holds each item", "id": "Kolom untuk setiap butir"},
    "not_in_file": {"en": "(not in the file)", "id": "(tidak ada di berkas)"},
    "reverse": {"en": "Reverse-keyed", "id": "Terbalik"},
    "scale_seen": {"en": "answers in these columns: {lo} to {hi}", "id": "jawaban di kolom-kolom ini: {lo} sampai {hi}"},
    "scale_min": {"en": "from", "id": "dari"},
    "scale_max": {"en": "to", "id": "sampai"},
    "outcome": {"en": "Overall satisfaction column", "id": "Kolom kepuasan keseluruhan"},
    "respondent_id": {"en": "Respondent id column", "id": "Kolom id responden"},
    "groups": {"en": "Group columns (village, gender, …)", "id": "Kolom kelompok (desa, jenis kelamin, …)"},
    "none_option": {"en": "(none)", "id": "(tidak ada)"},
    "missing": {"en": "Missing answers", "id": "Jawaban kosong"},
    "nan_raise": {"en": "show them as problems", "id": "tampilkan sebagai masalah"},
    "nan_omit": {"en": "leave out respondents with missing answers (listwise)",
                 "id": "keluarkan responden yang jawabannya kosong (listwise)"},
    "check": {"en": "Check the data", "id": "Periksa data"},
    "checking": {"en": "Checking…", "id": "Memeriksa…"},
    "valid": {"en": "The data are ready: {used} respondents used, {dropped} left out.",
              "id": "Data siap: {used} responden dianalisis, {dropped} dikeluarkan."},
    "problems": {"en": "Problems in the data. Nothing is analysed until they are resolved.",
                 "id": "Ada masalah pada data. Tidak ada yang dianalisis sampai masalah ini diselesaikan."},
    "col_column": {"en": "Column", "id": "Kolom"},
    "col_rows": {"en": "Rows (in your file)", "id": "Baris (dalam berkas Anda)"},
    "col_problem": {"en": "Problem", "id": "Masalah"},
    "drop_rows": {"en": "Leave out rows {rows} and check again", "id": "Keluarkan baris {rows} lalu periksa lagi"},
    "cannot_drop": {"en": "Correct the file or the settings above, then check again.",
                    "id": "Perbaiki berkas atau pengaturan di atas, lalu periksa lagi."},
    "dropped_rows": {"en": "Rows left out by you: {rows}", "id": "Baris yang Anda keluarkan: {rows}"},
    "undo_drop": {"en": "Keep them", "id": "Kembalikan"},
    "step_analyses": {"en": "3. Analyses", "id": "3. Analisis"},
    "n_resamples_help": {"en": "empty: the standard numbers (2000 for the gaps, 1000 for the others)",
                         "id": "kosong: jumlah baku (2000 untuk kesenjangan, 1000 untuk lainnya)"},
    "report_title": {"en": "Report title (optional)", "id": "Judul laporan (opsional)"},
    "invariance_help": {"en": "across the first group column", "id": "antar-kelompok pada kolom kelompok pertama"},
    "run": {"en": "Run the analyses", "id": "Jalankan analisis"},
    "run_first": {"en": "Check the data first.", "id": "Periksa data terlebih dahulu."},
    "stale": {"en": "The settings changed: check the data again.", "id": "Pengaturan berubah: periksa data lagi."},
    "running": {"en": "Running: {step} ({done} of {total} done)", "id": "Berjalan: {step} ({done} dari {total} selesai)"},
    "reading": {"en": "reading the data", "id": "membaca data"},
    "rendering": {"en": "writing the reports", "id": "menulis laporan"},
    "queued": {"en": "waiting for the analysis before it", "id": "menunggu analisis sebelumnya"},
    "done": {"en": "Done in {seconds} s.", "id": "Selesai dalam {seconds} detik."},
    "step_results": {"en": "4. Results", "id": "4. Hasil"},
    "step_download": {"en": "5. Download and reproduce", "id": "5. Unduh dan ulangi"},
    "dl_html": {"en": "Report (HTML)", "id": "Laporan (HTML)"},
    "dl_docx": {"en": "Report (Word)", "id": "Laporan (Word)"},
    "dl_md": {"en": "Report (Markdown, .zip with figures)", "id": "Laporan (Markdown, .zip dengan gambar)"},
    "dl_tex": {"en": "Report (LaTeX, .zip with figures)", "id": "Laporan (LaTeX, .zip dengan gambar)"},
    "dl_json": {"en": "analysis.json (every number)", "id": "analysis.json (semua angka)"},
    "dl_zip": {"en": "Everything, both languages (.zip)", "id": "Semuanya, kedua bahasa (.zip)"},
    "dl_lang": {"en": "The report files are in the language chosen above.",
                "id": "Berkas laporan memakai bahasa yang dipilih di atas."},
    "cli_title": {"en": "The same with the command line", "id": "Hal yang sama dengan baris perintah"},
    "cli_help": {"en": "Run it in the folder that holds {file}; it writes the folder {out}.",
                 "id": "Jalankan di folder tempat {file} berada; perintah ini menulis folder {out}."},
    "py_title": {"en": "The same in Python", "id": "Hal yang sama dalam Python"},
    "copy": {"en": "Copy", "id": "Salin"},
    "copied": {"en": "Copied", "id": "Tersalin"},
    "error": {"en": "Error", "id": "Galat"},
    "server_gone": {"en": "The app does not answer: is it still running?",
                    "id": "Aplikasi tidak menjawab: apakah masih berjalan?"},
    "messages_english": {"en": "", "id": "Pesan galat dari data ditulis dalam bahasa Inggris, sama dengan baris perintah."},
}

#: the report's words the page uses too
_FROM_CATALOGUE = ("instrument", "scale", "seed", "estimator", "n_resamples", "warnings", "skipped", "figures",
                   "sentences", "table", "figure", "note", "respondents", "provenance")


def strings() -> dict[str, dict[str, str]]:
    """Every word of the page: ``{lang: {key: text}}`` for each language.

    Examples
    --------
    >>> s = strings()
    >>> s["id"]["an_reliability"], s["en"]["check"], s["id"]["col_dimension"]
    ('reliabilitas dan validitas', 'Check the data', 'Dimensi')
    """
    out: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        words = {k: v[lang] for k, v in UI.items()}
        words.update({k: LABELS[k][lang] for k in _FROM_CATALOGUE})
        words.update({f"an_{a}": LABELS[f"an_{a}"][lang] for a in (*ANALYSES, *OPTIONAL_ANALYSES)})
        words.update({f"col_{k}": v[lang] for k, v in COLUMNS.items()})
        words.update({f"reason:{k}": v[lang] for k, v in LABELS.items() if k.startswith("needs ")})
        out[lang] = words
    return out
