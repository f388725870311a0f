"""Regional file formats (issue 14, part 3): encodings, separators, decimal commas, Excel sheets,
whitespace around column names.

The reference for every variant is outside the code under test: the clean UTF-8 file written by
pandas, read by pandas itself (``pd.read_csv``) and scored by ``servmodels`` on that clean file.
A Latin-1, cp1252, semicolon/decimal-comma, second-sheet or padded-header copy of the same data
must give exactly those numbers.
"""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import servmodels as sm
from servmodels import DataFileError, ParameterError, ValidationError
from servmodels.cli import main
from servmodels.streaming import dask_score, iter_chunks, stream_score

#: the longest error line the CLI may print for a bad file (issue 14)
MAX_ERROR = 600


def _regional_frame() -> pd.DataFrame:
    """The bundled example with accented village names and a fractional satisfaction score,
    so that both the encoding and the decimal mark change what is read."""
    df = sm.load_example()
    df["village"] = df["village"].astype(str).str.replace("a", "ñ", n=1) + np.where(df.index % 2, "", " (Baños)")
    df["satisfaction"] = df["satisfaction"] + np.where(np.arange(len(df)) % 3 == 0, 0.5, 0.0)
    return df


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("regional")
    df = _regional_frame()
    paths = {name: d / name for name in ("clean.csv", "latin1.csv", "cp1252.csv", "excel_id.csv", "bom.csv",
                                         "padded.csv", "unicode.txt", "book.xlsx", "quoted_comma.csv")}
    df.to_csv(paths["clean.csv"], index=False)
    df.to_csv(paths["latin1.csv"], index=False, encoding="latin-1")
    df.to_csv(paths["cp1252.csv"], index=False, encoding="cp1252", lineterminator="\r\n")
    # what Excel writes as "CSV" in an Indonesian or European locale: ';', decimal comma, ANSI, CRLF
    df.to_csv(paths["excel_id.csv"], index=False, sep=";", decimal=",", encoding="cp1252", lineterminator="\r\n")
    df.to_csv(paths["bom.csv"], index=False, encoding="utf-8-sig")
    df.rename(columns={"P1": "P1 ", "E2": " E2", "satisfaction": "satisfaction\t"}).to_csv(paths["padded.csv"], index=False)
    # Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated
    df.to_csv(paths["unicode.txt"], index=False, sep="\t", encoding="utf-16")
    # comma-separated with quoted decimal-comma numbers (needs decimal=',' given explicitly)
    df.to_csv(paths["quoted_comma.csv"], index=False, sep=",", decimal=",")
    with pd.ExcelWriter(paths["book.xlsx"]) as writer:
        pd.DataFrame({"about": ["synthetic survey", "see sheet Data"]}).to_excel(writer, sheet_name="Info", index=False)
        df.to_excel(writer, sheet_name="Data", index=False)
    return paths


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("servmodels: error: ")
    assert len(lines[0]) <= MAX_ERROR, (len(lines[0]), lines[0])
    return lines[0]


READ = dict(outcome="satisfaction", groups=["village"], respondent_id="respondent_id")


# ----------------------------------------------------------------------------------- encodings


def test_the_clean_file_is_plain_utf8(files):
    frame, meta = sm.read_table(files["clean.csv"])
    pd.testing.assert_frame_equal(frame, pd.read_csv(files["clean.csv"]))
    assert (meta["encoding"], meta["separator"], meta["decimal"], meta["notes"]) == ("utf-8", ",", ".", [])


@pytest.mark.parametrize("name, encoding", [("latin1.csv", "cp1252"), ("cp1252.csv", "cp1252"),
                                            ("bom.csv", "utf-8-sig"), ("unicode.txt", "utf-16")])
def test_detected_encodings_read_what_pandas_reads_from_the_clean_file(files, name, encoding):
    frame, meta = sm.read_table(files[name])
    pd.testing.assert_frame_equal(frame, pd.read_csv(files["clean.csv"]))
    assert meta["encoding"] == encoding
    assert "Baños" in set(frame["village"].str.slice(-6, -1))  # the accented letters were decoded, not replaced
    assert frame.columns[0] == "respondent_id"  # no byte-order mark left in the first name


def test_not_utf8_is_noted_with_the_first_offending_byte(files):
    raw = files["latin1.csv"].read_bytes()
    first = next(i for i, b in enumerate(raw) if b > 0x7F)
    line = raw[:first].count(b"\n") + 1
    _, meta = sm.read_table(files["latin1.csv"])
    assert meta["notes"] == [f"read as cp1252: the file is not valid UTF-8 (byte 0x{raw[first]:02x} on line {line}); "
                             "give encoding=NAME to choose another"]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "ISO-8859-1"])
def test_explicit_encoding(files, encoding):
    frame, meta = sm.read_table(files["latin1.csv"], encoding=encoding)
    pd.testing.assert_frame_equal(frame, pd.read_csv(files["clean.csv"]))
    assert meta["encoding"] == encoding and meta["notes"] == []


def test_cp1252_and_latin1_are_told_apart(tmp_path):
    # 0x80 is the euro sign in cp1252; 0x81 is undefined there, so such a file can only be Latin-1
    euro, control = tmp_path / "euro.csv", tmp_path / "c1.csv"
    euro.write_bytes(b"P1,price\n1,\x80 5\n")
    control.write_bytes(b"P1,note\n1,a\x81b\n")
    frame, meta = sm.read_table(euro)
    assert (meta["encoding"], frame.loc[0, "price"]) == ("cp1252", "€ 5")
    frame, meta = sm.read_table(control)
    assert (meta["encoding"], frame.loc[0, "note"]) == ("latin-1", "a\x81b")
    assert meta["notes"][0].startswith("read as latin-1: the file is neither UTF-8 (byte 0x81 on line 2) nor cp1252")


def test_wrong_explicit_encoding_names_the_byte_and_line(files):
    raw = files["latin1.csv"].read_bytes()
    first = next(i for i, b in enumerate(raw) if b > 0x7F)
    line = raw[:first].count(b"\n") + 1
    with pytest.raises(DataFileError, match=rf"as utf-8: byte 0x{raw[first]:02x} on line {line} is not valid utf-8"):
        sm.read_table(files["latin1.csv"], encoding="utf-8")


@pytest.mark.parametrize("bad", ["klingon", "", "rot13", "base64", 8])
def test_unknown_encoding_is_a_parameter_error(files, bad):
    with pytest.raises(ParameterError, match="encoding must be the name of a text encoding"):
        sm.read_table(files["clean.csv"], encoding=bad)


def test_binary_and_zip_files_named_csv(tmp_path):
    (tmp_path / "zip.csv").write_bytes(b"PK\x03\x04" + bytes(100))
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataFileError, match="zip archive, probably an Excel workbook"):
        sm.read_table(tmp_path / "zip.csv")
    with pytest.raises(DataFileError, match="binary file"):
        sm.read_table(tmp_path / "bin.csv")


def test_utf16_without_bom_is_recognised(tmp_path):
    path = tmp_path / "u16.txt"
    path.write_bytes("P1\tvillage\n3\tBaños\n".encode("utf-16-le"))
    frame, meta = sm.read_table(path)
    assert meta["encoding"] == "utf-16-le" and frame.to_dict("list") == {"P1": [3], "village": ["Baños"]}


# ----------------------------------------------------------------------------------- separators, decimal mark


def test_excel_locale_csv_detects_semicolon_and_decimal_comma(files):
    frame, meta = sm.read_table(files["excel_id.csv"])
    pd.testing.assert_frame_equal(frame, pd.read_csv(files["clean.csv"]))
    assert (meta["separator"], meta["decimal"], meta["encoding"]) == (";", ",", "cp1252")
    assert "read ',' as the decimal mark (numbers such as '2,5' in 'satisfaction'); give decimal='.' to turn this off" \
        in meta["notes"]


def test_decimal_dot_given_keeps_commas_as_text_and_the_error_says_why(files):
    frame, meta = sm.read_table(files["excel_id.csv"], decimal=".")
    assert frame["satisfaction"].iloc[0] == "2,5" and meta["decimal"] == "."
    with pytest.raises(ValidationError) as info:
        sm.read_survey(files["excel_id.csv"], decimal=".", **READ)
    assert [p.column for p in info.value.problems] == ["satisfaction"]
    assert str(info.value).endswith("; 'satisfaction' holds numbers with a decimal comma: give decimal=','")


def test_comma_separated_file_with_quoted_decimal_commas(files):
    # with ',' as separator a quoted "1,000" may be a thousands mark: not detected, but given explicitly it reads
    frame, meta = sm.read_table(files["quoted_comma.csv"])
    assert meta["decimal"] == "." and frame["satisfaction"].dtype.kind not in "fi"
    frame, meta = sm.read_table(files["quoted_comma.csv"], decimal=",")
    pd.testing.assert_frame_equal(frame, pd.read_csv(files["clean.csv"]))


def test_unquoted_decimal_comma_in_a_comma_file_says_quote_it(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("P1,satisfaction\n3,2\n4,3,5\n")
    with pytest.raises(DataFileError, match=r"numbers with a decimal comma must be quoted"):
        sm.read_table(path, decimal=",")


def test_a_file_that_also_writes_dot_decimals_is_not_reinterpreted(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("P1;weight;satisfaction\n3;1.5;2,5\n4;0.75;3\n")
    frame, meta = sm.read_table(path)
    assert meta["decimal"] == "." and frame["weight"].tolist() == [1.5, 0.75]
    assert frame["satisfaction"].tolist() == ["2,5", "3"] and meta["comma_columns"] == ["satisfaction"]


def test_likert_items_written_with_decimals_read_as_integers(tmp_path):
    # "the 50 problems": every item written as 3,00 by a spreadsheet formatted with two decimals
    df = sm.simulate_servqual(30, rng=5)
    path = tmp_path / "twodec.csv"
    items = [c for c in df.columns if c[0] in "EP" and c[1:].isdigit()]
    df.astype(dict.fromkeys(items, float)).to_csv(path, index=False, sep=";", decimal=",", float_format="%.2f")
    data = sm.read_survey(path)
    pd.testing.assert_frame_equal(sm.score(data).dimensions, sm.score(df).dimensions)


def test_separator_chosen_on_the_header(tmp_path):
    # every data line has exactly one comma (decimal), the header none: ';' must win
    path = tmp_path / "semi.csv"
    path.write_text("P1;P2;satisfaction\n1;2;3,5\n2;3;4,5\n3;4;2,5\n")
    frame, meta = sm.read_table(path)
    assert meta["separator"] == ";" and frame["satisfaction"].tolist() == [3.5, 4.5, 2.5]
    # a ';' inside a quoted value of a comma file does not fool it either
    path.write_text('P1,comment\n1,"good; fast"\n2,"slow; rude"\n')
    frame, meta = sm.read_table(path)
    assert meta["separator"] == "," and frame["comment"].tolist() == ["good; fast", "slow; rude"]


@pytest.mark.parametrize("bad", [";", "decimal", 1, "·"])
def test_bad_decimal_is_a_parameter_error(files, bad):
    with pytest.raises(ParameterError, match=r"decimal must be '\.' or ','"):
        sm.read_table(files["clean.csv"], decimal=bad)


# ----------------------------------------------------------------------------------- column names


def test_whitespace_around_column_names_is_removed_with_a_note(files):
    frame, meta = sm.read_table(files["padded.csv"])
    pd.testing.assert_frame_equal(frame, pd.read_csv(files["clean.csv"]))
    # pandas itself drops the leading space of ' E2' (skipinitialspace); the trailing ones are ours
    assert meta["notes"] == ["removed surrounding spaces from column name(s) 'P1 ', 'satisfaction\\t'"]


def test_whitespace_in_dataframe_column_names(files):
    df = pd.read_csv(files["clean.csv"])
    padded = df.rename(columns={c: f" {c} " for c in df.columns[:6]})
    data = sm.read_survey(padded, **READ)
    assert data.metadata["notes"] == ["removed surrounding spaces from column name(s) ' respondent_id ', ' village ', "
                                      "' gender ' and 3 more"]
    assert list(padded.columns[:1]) == [" respondent_id "]  # the caller's frame is not changed
    pd.testing.assert_frame_equal(data.to_frame(), sm.read_survey(df, **READ).to_frame())


def test_names_equal_once_stripped_are_a_validation_error(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("P1,P1 ,P2\n1,2,3\n")
    with pytest.raises(ValidationError) as info:
        sm.read_table(path)
    assert [(p.kind, p.column) for p in info.value.problems] == [("duplicate_column", "P1")]
    assert "'P1', 'P1 '" in str(info.value)


# ----------------------------------------------------------------------------------- Excel sheets


@pytest.mark.parametrize("sheet", [2, "2", "Data"])
def test_sheet_by_number_from_one_or_by_name(files, sheet):
    frame, meta = sm.read_table(files["book.xlsx"], sheet=sheet)
    pd.testing.assert_frame_equal(frame, pd.read_csv(files["clean.csv"]))
    assert (meta["sheet"], meta["sheets"]) == ("Data", ["Info", "Data"])


def test_first_sheet_by_default_and_sheet_1(files):
    for sheet in (None, 1, "1", "Info"):
        frame, meta = sm.read_table(files["book.xlsx"], sheet=sheet)
        assert meta["sheet"] == "Info" and list(frame.columns) == ["about"]


def test_a_sheet_named_like_a_number_wins_over_the_number(tmp_path):
    path = tmp_path / "named.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="2", index=False)
        pd.DataFrame({"y": [2]}).to_excel(writer, sheet_name="other", index=False)
    assert list(sm.read_table(path, sheet="2")[0].columns) == ["x"]   # the sheet named "2"
    assert list(sm.read_table(path, sheet=2)[0].columns) == ["y"]     # an int is always a number


@pytest.mark.parametrize("sheet, message", [
    (3, r"no sheet 3 in '.*book\.xlsx': it has 2; sheets: 'Info', 'Data'"),
    ("3", r"no sheet '3' in '.*book\.xlsx' \(sheets are numbered from 1\); sheets: 'Info', 'Data'"),
    ("Daten", r"no sheet 'Daten' in '.*book\.xlsx'; sheets: 'Info', 'Data'"),
])
def test_missing_sheet_lists_the_sheets(files, sheet, message):
    with pytest.raises(DataFileError, match=message):
        sm.read_table(files["book.xlsx"], sheet=sheet)


@pytest.mark.parametrize("sheet", [0, -1, True, 1.0])
def test_sheet_numbers_start_at_one(files, sheet):
    with pytest.raises(ParameterError, match="sheet"):
        sm.read_table(files["book.xlsx"], sheet=sheet)


def test_data_on_another_sheet_the_error_names_sheet_and_lists_sheets(files):
    with pytest.raises(ValidationError) as info:
        sm.read_survey(files["book.xlsx"], **READ)
    msg = str(info.value)
    assert "sheet 'Info' (the first of 2) lacks 53 required columns ('E1', 'E2', 'E3' and 50 more)" in msg
    assert msg.endswith("the workbook has sheets 'Info', 'Data': choose one with sheet=NAME")
    assert len(info.value.problems) == 53  # the structured problems are all kept


def test_many_sheets_are_listed_briefly(tmp_path):
    path = tmp_path / "many.xlsx"
    with pd.ExcelWriter(path) as writer:
        for i in range(30):
            pd.DataFrame({"x": [i]}).to_excel(writer, sheet_name=f"sheet with a long name {i:02d}", index=False)
    with pytest.raises(DataFileError) as info:
        sm.read_table(path, sheet="nope")
    assert str(info.value).endswith("and 20 more") and len(str(info.value)) < MAX_ERROR


# ----------------------------------------------------------------------------------- options that do not apply


def test_options_that_do_not_apply_are_errors(files, tmp_path):
    with pytest.raises(ParameterError, match=r"sheet applies to Excel workbooks"):
        sm.read_table(files["clean.csv"], sheet=1)
    with pytest.raises(ParameterError, match=r"decimal applies to delimited text files"):
        sm.read_table(files["book.xlsx"], decimal=",")
    with pytest.raises(ParameterError, match=r"encoding applies to text and SPSS files"):
        sm.read_table(files["book.xlsx"], encoding="latin-1")
    with pytest.raises(ParameterError, match="source is a DataFrame"):
        sm.read_survey(sm.load_example(), encoding="latin-1")


def test_spss_strings_with_an_explicit_encoding(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    df = pd.DataFrame({"P1": [1.0, 2.0], "village": ["Baños", "Peñas"]})
    path = tmp_path / "s.sav"
    pyreadstat.write_sav(df, str(path))
    assert sm.read_table(path, encoding="utf-8")[0]["village"].tolist() == ["Baños", "Peñas"]
    assert sm.read_table(path, encoding="latin-1")[0]["village"].tolist() == ["BaÃ±os", "PeÃ±as"]
    assert sm.read_table(path)[0]["village"].tolist() == ["Baños", "Peñas"]  # ReadStat reads the file's own


# ----------------------------------------------------------------------------------- estimators and streaming


def test_estimators_take_encoding_and_decimal(files):
    reference = sm.regress(sm.read_survey(files["clean.csv"], **READ))
    result = sm.regress(files["excel_id.csv"], encoding="cp1252", decimal=",", **READ)
    pd.testing.assert_frame_equal(result.coefficients, reference.coefficients)
    with pytest.raises(ParameterError, match="already validated"):
        sm.score(sm.read_survey(files["clean.csv"]), encoding="utf-8")


@pytest.mark.parametrize("name", ["latin1.csv", "excel_id.csv", "bom.csv", "padded.csv", "unicode.txt"])
@pytest.mark.parametrize("chunk_rows", [7, 1000])
def test_streaming_reads_regional_files_like_the_clean_one(files, name, chunk_rows):
    reference, _ = stream_score(files["clean.csv"], chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(reference.dimensions, sm.score(sm.read_survey(files["clean.csv"])).dimensions)
    result, _ = stream_score(files[name], chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(result.dimensions, reference.dimensions)
    frames = list(iter_chunks(files[name], chunk_rows=chunk_rows))
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), pd.read_csv(files["clean.csv"]),
                                  check_dtype=False)


def test_streaming_as_text_converts_decimal_commas(files):
    frames = list(iter_chunks(files["excel_id.csv"], chunk_rows=40, as_text=True))
    assert pd.concat(frames, ignore_index=True)["satisfaction"].astype(float).tolist() == \
        pd.read_csv(files["clean.csv"])["satisfaction"].tolist()


def test_streaming_explicit_options_and_errors(files):
    result, _ = stream_score(files["latin1.csv"], encoding="latin-1")
    pd.testing.assert_frame_equal(result.dimensions, stream_score(files["clean.csv"])[0].dimensions)
    with pytest.raises(DataFileError, match="as utf-8: byte 0xf1 on line"):
        stream_score(files["latin1.csv"], encoding="utf-8")
    with pytest.raises(ParameterError, match="encoding must be"):
        stream_score(files["latin1.csv"], encoding="nope")


def test_streaming_invalid_utf8_beyond_the_head_is_a_clear_error(tmp_path):
    df = sm.simulate_servqual(9000, rng=2)
    df["village"] = "Bawang"
    df.loc[8990, "village"] = "Baños"
    path = tmp_path / "late.csv"
    df.to_csv(path, index=False, encoding="latin-1")
    assert path.stat().st_size > 1 << 20  # the 0xf1 byte is after the first MiB, where the encoding is chosen
    with pytest.raises(DataFileError, match=r"not valid UTF-8.*encoding=NAME"):
        stream_score(path, chunk_rows=4000)
    frame, meta = sm.read_table(path)  # the in-memory reader decides on the whole file
    assert meta["encoding"] == "cp1252" and frame.loc[8990, "village"] == "Baños"


def test_dask_reads_regional_files(files):
    pytest.importorskip("dask.dataframe")
    reference, _ = dask_score(str(files["clean.csv"]))
    result, _ = dask_score(str(files["excel_id.csv"]))
    pd.testing.assert_frame_equal(result.dimensions, reference.dimensions)
    with pytest.raises(ParameterError, match="Parquet records its own"):
        dask_score(str(files["clean.csv"]).replace(".csv", ".parquet"), encoding="latin-1")


# ----------------------------------------------------------------------------------- command line


def _json(capsys, *argv) -> dict:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("name, options", [
    ("latin1.csv", ["--encoding", "latin-1"]),
    ("latin1.csv", []),
    ("excel_id.csv", ["--decimal", ","]),
    ("excel_id.csv", ["--decimal", ",", "--encoding", "cp1252"]),
    ("excel_id.csv", []),
    ("book.xlsx", ["--sheet", "2"]),
    ("book.xlsx", ["--sheet", "Data"]),
    ("padded.csv", []),
    ("unicode.txt", []),
])
def test_cli_regional_files_give_the_clean_files_numbers(files, capsys, name, options):
    for command in (["score"], ["regress", "--outcome", "satisfaction"]):
        reference = _json(capsys, *command, files["clean.csv"], "--json")
        assert _json(capsys, *command, files[name], *options, "--json") == reference


def test_cli_validated_data_equal_the_clean_files(files, capsys, tmp_path):
    options = ["--outcome", "satisfaction", "--group", "village", "--id", "respondent_id", "--quiet"]
    run(capsys, "validate", files["clean.csv"], *options, "--out", tmp_path / "clean_out.csv")
    run(capsys, "validate", files["excel_id.csv"], *options, "--out", tmp_path / "regional_out.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "regional_out.csv"), pd.read_csv(tmp_path / "clean_out.csv"))


def test_cli_prints_each_note_once_unless_quiet(files, capsys):
    code, _, err = run(capsys, "score", files["excel_id.csv"])
    assert code == 0
    assert err.splitlines() == [
        "servmodels: note: read as cp1252: the file is not valid UTF-8 (byte 0xf1 on line 2); "
        "give --encoding NAME to choose another",
        "servmodels: note: read ',' as the decimal mark (numbers such as '2,5' in 'satisfaction'); "
        "give --decimal . to turn this off",
    ]
    code, _, err = run(capsys, "score", files["excel_id.csv"], "--quiet")
    assert code == 0 and err == ""
    code, _, err = run(capsys, "score", files["padded.csv"], "--stream", "--chunk-rows", "30")
    assert code == 0 and err == "servmodels: note: removed surrounding spaces from column name(s) 'P1 ', 'satisfaction\\t'\n"


def test_cli_notes_are_not_repeated_when_a_command_reads_twice(files, capsys):
    import argparse

    from servmodels.cli import _notes

    args = argparse.Namespace(quiet=False)
    _notes(args, ["read as cp1252"])
    _notes(args, ["read as cp1252", "another"])
    assert capsys.readouterr().err == "servmodels: note: read as cp1252\nservmodels: note: another\n"


@pytest.mark.parametrize("command, name, options, expected", [
    ("regress", "latin1.csv", ["--encoding", "utf-8"], "as utf-8: byte 0xf1 on line 2 is not valid utf-8; "
                                                       "give another --encoding NAME"),
    ("regress", "latin1.csv", ["--encoding", "klingon"], "--encoding must be the name of a text encoding"),
    ("score", "latin1.csv", ["--encoding", "utf-8", "--stream"], "as utf-8: byte 0xf1 on line 2"),
    ("regress", "book.xlsx", [], "lacks 26 required columns ('P1', 'P2', 'P3' and 23 more); the workbook has sheets "
                                 "'Info', 'Data': choose one with --sheet NAME"),
    ("score", "book.xlsx", [], "lacks 50 required columns ('E1', 'E2', 'E3' and 47 more); the workbook has sheets "
                               "'Info', 'Data': choose one with --sheet NAME"),
    ("regress", "book.xlsx", ["--sheet", "3"], "no sheet '3' in"),
    ("regress", "book.xlsx", ["--sheet", "0"], "(sheets are numbered from 1); sheets: 'Info', 'Data'"),
    ("regress", "book.xlsx", ["--decimal", ","], "--decimal applies to delimited text files"),
    ("regress", "clean.csv", ["--sheet", "Data"], "--sheet applies to Excel workbooks"),
    ("regress", "excel_id.csv", ["--decimal", "."], "'satisfaction' holds numbers with a decimal comma: give --decimal ,"),
])
def test_cli_errors_are_one_short_line_with_exit_2(files, capsys, command, name, options, expected):
    outcome = ["--outcome", "satisfaction"] if command == "regress" else []
    code, out, err = run(capsys, command, files[name], *outcome, *options)
    assert code == 2 and out == ""
    assert expected in one_error_line(err)


def test_cli_bad_files_give_short_errors(capsys, tmp_path):
    bad = {
        "zip.csv": b"PK\x03\x04" + bytes(200),
        "binary.csv": bytes(range(256)) * 50,
        "dup.csv": b"P1,P1 ,P2\n1,2,3\n",
        "bom_broken.csv": codecs.BOM_UTF8 + b"P1,village\n1,Ba\xf1os\n",
        "utf16_odd.csv": codecs.BOM_UTF16_LE + b"P\x001\x00\n",
    }
    for name, raw in bad.items():
        (tmp_path / name).write_bytes(raw)
        code, _, err = run(capsys, "score", tmp_path / name)
        assert code == 2, (name, err)
        one_error_line(err)


def test_cli_decimal_choices_are_checked_by_argparse(files, capsys):
    with pytest.raises(SystemExit) as info:
        main(["score", str(files["clean.csv"]), "--decimal", ";"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "invalid choice" in one_error_line(err)


# ----------------------------------------------------------------------------------- generated files (hypothesis)

#: letters of every encoding under test: ASCII and U+00C0-U+00FF.  In cp1252/Latin-1 the accented ones are bytes
#: 0xc0-0xff, never UTF-8 continuation bytes, so no generated 8-bit file is accidentally valid UTF-8.
_LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + "".join(map(chr, range(0xC0, 0x100)))
_NAME = st.text(_LATIN + "0123456789_ ", min_size=0, max_size=8).map(str.strip)
#: text cells: start with "v" (never a number, NA, None or True), may hold separators and quotes
_TEXT_CHARS = _LATIN + "0123456789 ,;|\t\"'.-"


@st.composite
def survey_frames(draw, unicode_text: bool = False):
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(2, 5))
    names = draw(st.lists(st.tuples(st.sampled_from(_LATIN[:52]), _NAME).map("".join), min_size=n_cols,
                          max_size=n_cols, unique=True))
    chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")) if unicode_text \
        else st.sampled_from(_TEXT_CHARS)
    cols = {}
    for name in names:
        kind = draw(st.sampled_from(["int", "float", "float", "text"]))
        if kind == "int":
            cols[name] = pd.array(draw(st.lists(st.integers(-999, 999), min_size=n_rows, max_size=n_rows)), dtype="int64")
        elif kind == "float":
            values = draw(st.lists(st.one_of(st.integers(-99999, 99999).map(lambda k: k / 100),
                                             st.just(np.nan)), min_size=n_rows, max_size=n_rows))
            cols[name] = np.array(values, dtype="float64")
        else:
            cells = st.text(chars, max_size=6).map(lambda t: ("v" + t).rstrip())
            cols[name] = draw(st.lists(cells, min_size=n_rows, max_size=n_rows))
    return pd.DataFrame(cols)


def _write(path: Path, frame: pd.DataFrame, *, sep: str, decimal: str, encoding: str, crlf: bool, quoting: int) -> None:
    frame.to_csv(path, index=False, sep=sep, decimal=decimal, encoding=encoding, quoting=quoting,
                 lineterminator="\r\n" if crlf else "\n")


def _check_read_back(read: pd.DataFrame, written: pd.DataFrame) -> None:
    assert list(read.columns) == list(written.columns)
    for col in written.columns:
        if written[col].isna().all():  # an empty column: pandas reads float NaN, pyarrow a null type
            assert read[col].isna().all()
        elif written[col].dtype.kind in "if":
            assert read[col].dtype.kind in "if", (col, read[col].tolist())
            np.testing.assert_array_equal(read[col].to_numpy(dtype=float), written[col].to_numpy(dtype=float))
        else:
            assert read[col].tolist() == written[col].tolist()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("generated")


_QUOTING = st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])


@settings(max_examples=80, deadline=None)
@given(frame=survey_frames(), sep=st.sampled_from([",", ";", "\t", "|"]), decimal=st.sampled_from([".", ","]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"]), crlf=st.booleans(), quoting=_QUOTING)
def test_generated_files_read_back_equal_with_everything_detected(workdir, frame, sep, decimal, encoding, crlf, quoting):
    if sep == "," and decimal == ",":
        decimal = "."  # not detected with ',' as separator (a quoted "1,000" may be a thousands mark): tested below
    path = workdir / "detect.csv"
    _write(path, frame, sep=sep, decimal=decimal, encoding=encoding, crlf=crlf, quoting=quoting)
    read, meta = sm.read_table(path)
    _check_read_back(read, frame)
    assert meta["separator"] == sep
    non_ascii = any(ord(c) > 127 for c in path.read_bytes().decode(encoding))
    assert meta["encoding"] == ("utf-8-sig" if encoding == "utf-8-sig" else "utf-8" if encoding == "utf-8" or not non_ascii
                                else "cp1252")
    floats = [c for c in frame.columns if frame[c].dtype.kind == "f" and frame[c].notna().any()]
    assert meta["decimal"] == ("," if decimal == "," and floats else ".")


@settings(max_examples=60, deadline=None)
@given(frame=survey_frames(), sep=st.sampled_from([",", ";", "\t", "|"]), decimal=st.sampled_from([".", ","]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]), crlf=st.booleans(),
       quoting=_QUOTING)
def test_generated_files_read_back_equal_with_options_given(workdir, frame, sep, decimal, encoding, crlf, quoting):
    path = workdir / "given.txt"
    _write(path, frame, sep=sep, decimal=decimal, encoding=encoding, crlf=crlf, quoting=quoting)
    read, meta = sm.read_table(path, encoding=encoding, decimal=decimal)
    _check_read_back(read, frame)
    assert (meta["separator"], meta["decimal"], meta["notes"]) == (sep, decimal, [])


@settings(max_examples=40, deadline=None)
@given(frame=survey_frames(unicode_text=True), sep=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]), crlf=st.booleans())
def test_generated_unicode_files_read_back_equal(workdir, frame, sep, encoding, crlf):
    path = workdir / "unicode.csv"
    _write(path, frame, sep=sep, decimal=".", encoding=encoding, crlf=crlf, quoting=csv.QUOTE_MINIMAL)
    read, meta = sm.read_table(path)
    _check_read_back(read, frame)
    assert meta["encoding"] == encoding


@settings(max_examples=30, deadline=None)
@given(frame=survey_frames(), sep=st.sampled_from([",", ";", "\t", "|"]), decimal=st.sampled_from([".", ","]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"]), crlf=st.booleans(),
       chunk_rows=st.integers(1, 4))
def test_generated_files_stream_back_equal(workdir, frame, sep, decimal, encoding, crlf, chunk_rows):
    if sep == "," and decimal == ",":
        decimal = "."
    path = workdir / "stream.csv"
    _write(path, frame, sep=sep, decimal=decimal, encoding=encoding, crlf=crlf, quoting=csv.QUOTE_MINIMAL)
    read = pd.concat(list(iter_chunks(path, chunk_rows=chunk_rows)), ignore_index=True)
    _check_read_back(read, frame)
