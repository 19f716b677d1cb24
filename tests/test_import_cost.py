"""What ``import devicelab.predict`` costs on top of ``import torch``: pricing a step must not
load a lesson's dependencies (scikit-learn for Iris, matplotlib for figures)."""

import json
import statistics
import subprocess
import sys

import pytest

_PROBE = """
import json, sys, time
start = time.perf_counter()
import torch
torch_s = time.perf_counter() - start
start = time.perf_counter()
import devicelab.predict
print(json.dumps({"torch": torch_s, "predict": time.perf_counter() - start,
                  "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


@pytest.mark.slow  # three fresh interpreters, each importing torch
def test_importing_predict_adds_at_most_a_third_of_torchs_own_import():
    """The issue's budget: ``import devicelab.predict`` adds at most a third of what
    ``import torch`` itself takes, measured in the same fresh process (the median of three,
    so one slow start on a busy machine does not decide)."""
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    torch_s = statistics.median(r["torch"] for r in runs)
    predict_s = statistics.median(r["predict"] for r in runs)
    assert predict_s <= torch_s / 3, (predict_s, torch_s)
    assert not {"sklearn", "matplotlib", "pandas"} & set(runs[0]["loaded"]), runs[0]["loaded"]
