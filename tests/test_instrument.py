import json

import pytest

import servmodels as sm


def test_presets_match_published_layouts():
    s25 = sm.get_instrument("servqual25")
    # seed: tangibles 1-5, reliability 6-10, responsiveness 11-15, assurance 16-20, empathy 21-25
    assert {d: (int(v[0]), int(v[-1])) for d, v in s25.dimensions.items()} == {
        "tangibles": (1, 5), "reliability": (6, 10), "responsiveness": (11, 15), "assurance": (16, 20), "empathy": (21, 25),
    }
    assert s25.scale == (1, 4) and s25.score_sets == ("E", "P")
    s22 = sm.get_instrument("servqual22")
    # Parasuraman, Berry & Zeithaml (1991): 4-5-4-4-5 items
    assert [len(v) for v in s22.dimensions.values()] == [4, 5, 4, 4, 5]
    assert s22.dimensions["empathy"] == ("18", "19", "20", "21", "22")
    assert s22.columns("E")[-1] == "E22"
    assert sm.list_instruments() == ("servqual25", "servqual22", "ikm9")
    assert sm.get_instrument("ikm9").columns("P")[-1] == "U9"


def test_round_trip_through_dict_json_and_yaml(tmp_path):
    inst = sm.get_instrument("servqual22").with_columns(outcome="sat", groups=("village",), column_map={"P1": "q1"})
    assert sm.Instrument.from_dict(inst.to_dict()) == inst
    j = tmp_path / "i.json"
    j.write_text(json.dumps(inst.to_dict()))
    assert sm.get_instrument(str(j)) == inst
    y = tmp_path / "i.yaml"
    import yaml

    y.write_text(yaml.safe_dump(inst.to_dict()))
    assert sm.get_instrument(y) == inst
    assert inst.column("P", "1") == "q1" and inst.column("P", "2") == "P2"


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"dimensions": {"a": [1, 2], "b": [2, 3]}}, "appears in both"),
        ({"dimensions": {"a": [1]}, "scale": [5, 1]}, "below maximum"),
        ({"dimensions": {"a": [1]}, "score_sets": ["gap"]}, "score_sets"),
        ({"dimensions": {"a": [1]}, "score_sets": ["1x"]}, "score_sets"),
        ({"dimensions": {"a": [1]}, "reverse": ["Q9"]}, "reverse"),
        ({"dimensions": {}}, "no dimensions"),
        ({"dimensions": {"a": []}}, "no items"),
        ({"dimensions": {"a": [1]}, "colour": "red"}, "unknown instrument field"),
        ({"scale": [1, 5]}, "needs a 'dimensions'"),
        ({"dimensions": {"a": [1]}, "column_template": "Q"}, "column_template"),
        ({"dimensions": {"a": [1], "b": [2]}, "importance": {"a": "w1"}}, "every dimension"),
        ({"dimensions": {"a": [1, 2]}, "column_map": {"P1": "P2"}}, "collide"),
    ],
)
def test_bad_definitions(spec, match):
    with pytest.raises(sm.InstrumentError, match=match):
        sm.Instrument.from_dict(spec)


def test_unknown_preset_and_unreadable_file(tmp_path):
    with pytest.raises(sm.InstrumentError, match="unknown instrument 'servqual99'"):
        sm.get_instrument("servqual99")
    bad = tmp_path / "bad.yaml"
    bad.write_text("dimensions: [unclosed")
    with pytest.raises(sm.InstrumentError, match="cannot parse"):
        sm.get_instrument(bad)
    with pytest.raises(sm.InstrumentError, match="cannot read"):
        sm.get_instrument(tmp_path / "absent.json")


def test_gaps_follow_score_sets():
    base = sm.get_instrument("servqual25")
    assert base.gaps == {"gap": ("P", "E")}
    assert base.with_score_sets(["P"]).gaps == {}
    assert set(base.with_score_sets(["M", "D", "P", "E"]).gaps) == {"gap", "adequacy", "superiority"}
    assert base.dimension_of("17") == "assurance"
    with pytest.raises(sm.InstrumentError):
        base.dimension_of("99")
