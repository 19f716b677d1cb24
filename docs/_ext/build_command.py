"""The one strict build command, shared by ``nox -s docs`` and the tests that prove it fails.

Run from the repository root: sources in ``docs/``, ``conf.py`` at the root, HTML in
``build/html``. ``-W --keep-going`` turns every warning into a failure after reporting all of
them; ``-T`` prints full tracebacks.
"""

SPHINX_ARGS = ["-T", "-W", "--keep-going", "-b", "html", "-c", ".", "-d", "build/doctrees",
               "docs", "build/html"]  # fmt: skip
VERIFY_ARGS = ["docs/_ext/verify_build.py", "docs/auto_examples", "build/html"]
