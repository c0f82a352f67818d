"""bench/phoatis.py end to end, on a tiny synthetic dataset in the PhoATIS layout (never on PhoATIS itself)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Three labels with words of their own, one of them a multi-intent label kept as its exact string.
ROWS = {
    "train": [("chuyến bay từ hà nội đến đà nẵng", "flight"), ("các chuyến bay sáng mai đi vinh", "flight"),
              ("tôi muốn bay chuyến sớm nhất", "flight"), ("giá vé rẻ nhất bao nhiêu tiền", "airfare"),
              ("bao nhiêu tiền một vé hạng thường", "airfare"), ("giá vé khứ hồi bao nhiêu", "airfare"),
              ("hãng hàng không nào và mã hiệu", "airline#flight_no"),
              ("mã hiệu của hãng hàng không", "airline#flight_no"),
              ("hãng nào khai thác mã hiệu này", "airline#flight_no")],
    "dev": [("chuyến bay đi huế", "flight"), ("giá vé bao nhiêu tiền", "airfare"),
            ("hãng nào mã hiệu gì", "airline#flight_no")],
    "test": [("chuyen bay toi vinh", "flight"), ("gia ve re nhat", "airfare"),
             ("hang hang khong ma hieu", "airline#flight_no"), ("chuyến bay từ đà nẵng", "flight")],
}


def write_dataset(root: Path) -> Path:
    for split, rows in ROWS.items():
        folder = root / split
        folder.mkdir(parents=True)
        (folder / "seq.in").write_text("\n".join(text for text, _ in rows) + "\n", encoding="utf-8")
        (folder / "label").write_text("\n".join(label for _, label in rows) + "\n", encoding="utf-8")
    return root


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bench" / "phoatis.py"), *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def test_reports_the_project_classifier_beside_the_linear_svc_baseline(tmp_path):
    data = write_dataset(tmp_path / "syllable-level")
    result = run("--data", str(data), "--rounds", "1", "--cold-runs", "1", "--tune", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sizes"] == {"train": 9, "dev": 3, "test": 4}
    assert report["classes"] == ["airfare", "airline#flight_no", "flight"]
    project, baseline = report["results"]
    assert project["name"].startswith("project") and baseline["name"].startswith("baseline")
    for r in (project, baseline):
        assert r["test_accuracy"] == 1.0 and r["dev_accuracy"] == 1.0
        assert 0 < r["cpu_p50_ms"] <= r["cpu_p99_ms"] and 0 < r["p50_ms"] <= r["p99_ms"]
        assert r["cold_start_s"] > 0 and r["model_mb"] > 0
        assert set(r["dev_grid"]) and r["c"] in {float(c) for c in r["dev_grid"]}
    assert 0 <= project["ece"] <= 1


def test_the_markdown_report_names_both_classifiers(tmp_path):
    result = run("--data", str(write_dataset(tmp_path / "data")), "--rounds", "1", "--cold-runs", "1")
    assert result.returncode == 0, result.stderr
    assert "| project (nlu/classifier.py) | 8 | **100.00%**" in result.stdout
    assert "| baseline (TF-IDF + LinearSVC) | 1 | **100.00%**" in result.stdout
    assert "train 9, dev 3, test 4 utterances, 3 labels" in result.stdout


def test_a_folder_without_the_splits_is_refused_with_its_name(tmp_path):
    (tmp_path / "train").mkdir()
    result = run("--data", str(tmp_path), "--json")
    assert result.returncode != 0
    assert str(tmp_path / "train") in result.stderr and "seq.in" in result.stderr
