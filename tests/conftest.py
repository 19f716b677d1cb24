# tests/ and docs/_ext are on sys.path through `pythonpath` in pyproject.toml's
# [tool.pytest.ini_options]: test helpers (tests/sphinx_project.py) and the docs' extensions
# import as plain modules.
