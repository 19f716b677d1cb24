# tests/ and docs/_ext are on sys.path through `pythonpath` in pyproject.toml's
# [tool.pytest.ini_options]: test helpers (tests/sphinx_project.py) and the docs' extensions
# import as plain modules.

import pytest


@pytest.fixture(autouse=True)
def _allreduce_costs_given_in_fast_tests(request, monkeypatch):
    """advise's data-parallel line measures the all-reduce between two spawned processes; the
    fast selection starts no process, so there the costs are given instead (the slow tests,
    tests/test_distributed.py, measure them)."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("DEVICELAB_ALLREDUCE_COSTS", "2e-4,1.4e9")


@pytest.fixture
def cuda_standin(monkeypatch):
    """torch reports one CUDA device whose tensors stay on the CPU (tests/cuda_standin.py says
    what it cannot show); child processes started by the test get it too."""
    import cuda_standin as standin

    env = standin.site_env()
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    monkeypatch.setenv(standin.ENV, "1")
    standin.install()
    try:
        yield standin
    finally:
        standin.uninstall()
