"""docs/PERFORMANCE.md's fan-out tables are what docs/benchmarks/fanout.json gives (bench/report.py)."""

import json
import shutil

from bench import report


def test_committed_performance_doc_matches_fanout_json(capsys):
    status = report.main(["--check"])
    assert status == 0, capsys.readouterr().err


def copies(tmp_path):
    json_path = shutil.copy(report.DEFAULT_JSON, tmp_path / "fanout.json")
    doc_path = shutil.copy(report.DEFAULT_DOC, tmp_path / "PERFORMANCE.md")
    return json_path, doc_path


def test_changed_json_figure_changes_the_table(tmp_path, capsys):
    json_path, doc_path = copies(tmp_path)
    paths = ["--json", str(json_path), "--doc", str(doc_path)]
    # From a fresh block, so that this test pins its own point whatever the committed doc says.
    assert report.main(paths) == 0
    data = json.loads(json_path.read_text())
    redis = next(t for t in data["targets"] if t["target"] == "product-redis")
    received = redis["sizes"]["5000"]["broadcast"]["all_received_ms"]
    old_row_cell = f"| {received['p50']} / {received['max']} |"
    assert old_row_cell in doc_path.read_text()
    received["p50"] = 4242.42
    json_path.write_text(json.dumps(data))
    before = doc_path.read_text()

    assert report.main(["--check", *paths]) == 1
    assert f"run `.venv/bin/python -m bench.report {' '.join(paths)}`" in capsys.readouterr().err
    assert doc_path.read_text() == before

    assert report.main(paths) == 0
    after = doc_path.read_text()
    row = next(line for line in after.splitlines() if line.startswith("| product-redis | 5,000 | 5,000"))
    assert f"| 4242.42 / {received['max']} |" in row
    assert old_row_cell not in after
    # Only the block between the markers is rewritten.
    assert after.split(report.START)[0] == before.split(report.START)[0]
    assert after.split(report.END)[1] == before.split(report.END)[1]
    assert report.main(["--check", *paths]) == 0


def test_the_run_line_names_the_commit_when_the_json_has_one():
    data = json.loads(report.DEFAULT_JSON.read_text())
    assert "at commit" not in report.provenance(data)
    data["commit"] = "5408615"
    assert ", at commit 5408615;" in report.provenance(data)


def test_a_document_without_both_markers_is_refused(tmp_path, capsys):
    json_path, doc_path = copies(tmp_path)
    doc_path.write_text(doc_path.read_text().replace(report.END, ""))
    assert report.main(["--check", "--json", str(json_path), "--doc", str(doc_path)]) == 2
    assert report.END in capsys.readouterr().err
