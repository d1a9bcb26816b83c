"""The illustrative review's generator: same bytes every run, the promised shape, neutral labels."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from review_copies import DATA

from erh_report.data import load_review
from erh_report.example import generate


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_committed_data_are_the_generators_output():
    files = generate.generate()
    assert sorted(files) == sorted(p.name for p in DATA.iterdir())
    for name, text in files.items():
        assert (DATA / name).read_bytes() == text.encode("utf-8"), f"data/{name} differs: rerun the generator"


def test_running_twice_writes_the_same_bytes(tmp_path: Path):
    generate.main([str(tmp_path / "a")])
    generate.main([str(tmp_path / "b")])
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_shape_of_the_review():
    files = generate.generate()
    studies = _table(files["studies.csv"])
    rows = _table(files["outcome_data.csv"])
    assert len(studies) == generate.N_STUDIES == 93, "the published review's count"
    assert sum(int(s["n_randomised"]) for s in studies) == generate.TOTAL_DYADS == 14_993, "the published count"
    hours = [float(s["dose_hours"]) for s in studies]
    assert min(hours) >= 1 and max(hours) <= 60
    assert {s["population_risk"] for s in studies} == {"high", "low"}
    assert {s["intervention_type"] for s in studies} == {
        "video feedback",
        "home visiting",
        "skin-to-skin contact",
        "parenting group",
        "infant massage",
    }
    multi_arm = {r["study_id"] for r in rows if r["arm"] == "intervention B"}
    assert 3 <= len(multi_arm) <= 15, "about 11% of 93 trials"
    assert {r["role"] for r in rows} == {"intervention", "control", "contrast"}
    assert {r["followup_months"] for r in rows} == {"0", "1", "3", "6", "12", "18", "24", "36"}
    dichotomous = {r["outcome"] for r in rows if r["events"]}
    assert dichotomous == {"secure_attachment", "disorganised_attachment"}


def test_labels_are_neutral_and_the_review_says_it_is_illustrative():
    files = generate.generate()
    for s in _table(files["studies.csv"]):
        assert re.fullmatch(r"Study \d{3} \(\d{4}\)", s["label"])
    assert "illustrative: true" in files["review.yaml"]
    assert "Author One" in files["review.yaml"]
    assert "Lavall" not in "".join(files.values())
    assert "True parameters" in (generate.__doc__ or "")


def test_catalogue_has_mixed_directions():
    review = load_review(DATA)
    depression = review.outcome("depression")
    assert [i.higher_is_better for i in depression.instruments] == [False, False, False, False]
    socio = review.outcome("socioemotional")
    assert {i.higher_is_better for i in socio.instruments} == {True, False}
    assert review.outcome("secure_attachment").type == "dichotomous"


def test_ten_times_larger_review_is_valid(tmp_path: Path):
    generate.write(tmp_path, n_studies=930)
    review = load_review(tmp_path)
    assert len(review.studies) == 930
    assert 145_000 < sum(s.n_randomised for _, s in review.studies) < 155_000
    assert review.prisma.studies_included == 930
