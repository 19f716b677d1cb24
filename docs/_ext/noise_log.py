"""The docs build's noise meter: a reading at the start, after every example, at the end.

Each reading times the same small workload (:func:`devicelab.noise.measure_noise`) and is
appended to ``noise.json`` next to the HTML output folder (``build/noise.json`` for
``nox -s docs``). The log's path goes into the ``DEVICELAB_NOISE_LOG`` environment variable,
so the MyST-NB kernels, which are separate processes started later, find it too.

sphinx-gallery calls :func:`reading_after_example` through ``reset_modules`` in conf.py,
with ``reset_modules_order = "both"``: it reads only on the call after an example.
"""

from __future__ import annotations

import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from devicelab.noise import NOISE_LOG_ENV, append_reading, drift, measure_noise, read_log

logger = logging.getLogger(__name__)


def _take(label: str) -> None:
    append_reading(os.environ[NOISE_LOG_ENV], measure_noise(label))


def _start(app: Sphinx) -> None:
    log = Path(app.outdir).parent / "noise.json"
    log.unlink(missing_ok=True)  # one build, one log
    os.environ[NOISE_LOG_ENV] = str(log)
    _take("build started")


def reading_after_example(gallery_conf: dict, fname: str, when: str) -> None:
    """sphinx-gallery's ``reset_modules`` hook: a reading after each executed example."""
    if when == "after":
        _take(f"after {Path(fname).stem}")


def _finish(app: Sphinx, exception: Exception | None) -> None:
    _take("build finished")
    logger.info("noise meter: %s", drift(read_log(os.environ[NOISE_LOG_ENV])).sentence())


def setup(app: Sphinx) -> dict[str, bool]:
    # before sphinx-gallery's builder-inited handler (priority 500), which runs the examples
    app.connect("builder-inited", _start, priority=100)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
