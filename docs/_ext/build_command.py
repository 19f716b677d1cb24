"""The one strict build command, shared by ``nox -s docs`` and the tests that prove it fails.

Run from the repository root: sources in ``docs/``, ``conf.py`` at the root, HTML in
``build/html``. ``-W --keep-going`` turns every warning into a failure after reporting all of
them; ``-T`` prints full tracebacks.

The Chinese edition is built second, into ``build/html/zh_CN``, with its own doctrees. It executes
nothing: it reuses the gallery pages and the notebook cache that the English build just wrote
(docs/translating.md).
"""

SPHINX_ARGS = ["-T", "-W", "--keep-going", "-b", "html", "-c", ".", "-d", "build/doctrees",
               "docs", "build/html"]  # fmt: skip
VERIFY_ARGS = [
    "docs/_ext/verify_build.py",
    "docs/auto_examples",
    "build/html",
    "--page-balance",
    "--site",
]

TRANSLATION_ARGS = ["-T", "-W", "--keep-going", "-b", "html", "-c", ".",
                    "-d", "build/doctrees-zh_CN", "-D", "language=zh_CN",
                    "docs", "build/html/zh_CN"]  # fmt: skip
VERIFY_TRANSLATION_ARGS = [
    ["docs/_ext/verify_build.py", "docs/auto_examples", "build/html/zh_CN", "--site"],
    [
        "docs/_ext/verify_translation.py",
        "build/html",
        "zh_CN",
        "--figures",
        "docs/auto_examples",
        "build/translated_figures",
    ],  # fmt: skip
]
