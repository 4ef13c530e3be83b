"""`polls jury lottery` and `polls jury draw [--verify]` on real files, as an officer and a sceptic would."""

from __future__ import annotations

import argparse
import json
import shutil
import stat
from pathlib import Path

import pytest

from polls.cli import jury as cli_jury

DATA = Path(__file__).parents[2] / "data" / "sortition"


def polls(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser(prog="polls")
    cli_jury.add_parsers(parser.add_subparsers(dest="command", required=True))
    return cli_jury.run(parser.parse_args([str(a) for a in argv]))


@pytest.fixture()
def published(tmp_path: Path) -> Path:
    """A lottery for a panel of 6 from the example pool, households kept apart, and its draw."""
    for name in ("people.csv", "categories.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    pool = ["--people", tmp_path / "people.csv", "--categories", tmp_path / "categories.csv"]
    columns = ["--id-column", "nationbuilder_id", "--household-columns", "primary_address1,primary_zip"]
    code = polls(
        "jury",
        "lottery",
        *pool,
        *columns,
        "--households",
        "--size",
        "6",
        "--out",
        tmp_path / "lottery.json",
        "--probabilities",
        tmp_path / "probabilities.csv",
    )
    assert code == 0
    assert (
        polls(
            "jury",
            "draw",
            "--lottery",
            tmp_path / "lottery.json",
            "--seed-file",
            tmp_path / "lottery.seed",
            "--reserves",
            "5",
            "--out",
            tmp_path / "draw.json",
        )
        == 0
    )
    return tmp_path


def verify(folder: Path, *extra: str | Path, seed: str | None = None) -> int:
    seed_args = ["--seed", seed] if seed is not None else ["--seed-file", folder / "lottery.seed"]
    return polls(
        "jury",
        "draw",
        "--verify",
        "--lottery",
        folder / "lottery.json",
        "--draw",
        folder / "draw.json",
        *seed_args,
        *extra,
    )


def with_pool(folder: Path) -> list[str | Path]:
    return [
        "--people",
        folder / "people.csv",
        "--categories",
        folder / "categories.csv",
        "--id-column",
        "nationbuilder_id",
        "--household-columns",
        "primary_address1,primary_zip",
    ]


def test_the_lottery_publishes_probabilities_and_a_commitment_and_keeps_the_seed_secret(
    published: Path,
) -> None:
    lottery = json.loads((published / "lottery.json").read_text())
    seed = (published / "lottery.seed").read_text().strip()
    assert stat.S_IMODE((published / "lottery.seed").stat().st_mode) == 0o600
    assert seed not in (published / "lottery.json").read_text()
    assert len(lottery["probabilities"]) == 30
    assert sum(lottery["probabilities"].values()) == pytest.approx(6)
    assert lottery["households"] == [["1003", "1004"], ["1011", "1012"]]
    assert "Church" not in (published / "lottery.json").read_text()  # no addresses published
    rows = (published / "probabilities.csv").read_text().splitlines()
    assert rows[0] == "id,gender,age,area,probability" and len(rows) == 31


def test_a_published_draw_verifies_with_and_without_the_pool(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert verify(published) == 0
    assert verify(published, *with_pool(published)) == 0
    assert (
        "verified: the pool and quotas, the seed commitment and the lottery give panel"
        in capsys.readouterr().out
    )


def test_a_draw_with_another_seed_does_not_verify(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(published, seed="f" * 64) == 1
    assert "not the commitment published with the lottery" in capsys.readouterr().err


def test_an_edited_draw_record_does_not_verify(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads((published / "draw.json").read_text())
    everyone = json.loads((published / "lottery.json").read_text())["probabilities"]
    outsider = next(p for p in everyone if p not in record["panel"] and p not in record["reserves"])
    record["panel"][0] = outsider
    (published / "draw.json").write_text(json.dumps(record))
    assert verify(published) == 1
    assert "the draw gives a different panel" in capsys.readouterr().err


def test_a_changed_pool_does_not_verify(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people = (
        (published / "people.csv")
        .read_text()
        .replace("1030,resident1030@example.org,Male", "1030,r@x,Female")
    )
    (published / "people.csv").write_text(people)
    assert verify(published, *with_pool(published)) == 1
    assert "does not give the lottery's pool" in capsys.readouterr().err


def test_an_existing_seed_is_never_overwritten(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (published / "lottery.seed").read_text()
    code = polls("jury", "lottery", *with_pool(published), "--size", "6", "--out", published / "lottery.json")
    assert code == 2
    assert "already holds a seed" in capsys.readouterr().err
    assert (published / "lottery.seed").read_text() == before


def test_a_malformed_people_file_is_refused_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = (DATA / "people.csv").read_text().splitlines()
    fields = people[5].split(",")
    fields[4] = "Nowhere"
    people[5] = ",".join(fields)
    (tmp_path / "people.csv").write_text("\n".join(people) + "\n")
    code = polls(
        "jury",
        "lottery",
        "--people",
        tmp_path / "people.csv",
        "--categories",
        DATA / "categories.csv",
        "--size",
        "6",
        "--out",
        tmp_path / "lottery.json",
    )
    assert code == 2
    assert (
        "people.csv, line 6: area is 'Nowhere'; the categories file allows North, South"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "lottery.json").exists() and not (tmp_path / "lottery.seed").exists()


def test_infeasible_quotas_are_reported_with_how_far_to_relax_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    categories = (DATA / "categories.csv").read_text().replace("gender,Female,3,3", "gender,Female,5,5")
    (tmp_path / "categories.csv").write_text(categories)
    code = polls(
        "jury",
        "lottery",
        "--people",
        DATA / "people.csv",
        "--categories",
        tmp_path / "categories.csv",
        "--size",
        "6",
        "--out",
        tmp_path / "lottery.json",
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "No panel of 6 meets every quota." in err
    assert "the minimums for gender add up to 8, more than the panel's 6" in err
    # Two smallest changes touch one quota each; either is right, and neither is split over two.
    advice = err.split("makes a panel possible (2 in total):\n")[1].splitlines()
    assert advice in (
        ["  - gender 'Female': lower the minimum from 5 to 3"],
        ["  - gender 'Male': lower the minimum from 3 to 1"],
    )
