"""The classify benchmark's seed spread joins only earlier rows trained the same way."""

from __future__ import annotations

import json

from benchmarks.bench_classify import _earlier_seeds


def test_earlier_seed_rows_with_other_settings_are_dropped(tmp_path, capsys):
    settings = {"model": "lstm", "vectors": "ppmi100", "units": 64, "lr": 5e-4}
    rows = [{"seed": 0, "settings": settings}, {"seed": 1, "settings": {**settings, "units": 32}},
            {"seed": 2}, {"seed": 3, "settings": settings}]
    path = tmp_path / "bench_classify_seeds-x.json"
    path.write_text(json.dumps({"rows": rows}))
    kept = _earlier_seeds(path, [3], json.loads(json.dumps(settings)))
    assert [r["seed"] for r in kept] == [0, 2]  # 1: other units; 3: trained again now
    assert "dropped 1 earlier seed rows" in capsys.readouterr().err
    assert _earlier_seeds(tmp_path / "absent.json", [0], settings) == []
