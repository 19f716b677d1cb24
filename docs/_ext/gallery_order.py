"""Order of the examples inside each gallery section: the order a reader should take them in."""

from __future__ import annotations

from pathlib import Path

LESSON_ORDER = [
    # python/
    "plot_call_method.py",
    # hardware/
    "plot_inspect_cpu.py",
    "plot_inspect_gpu.py",
    # training/
    "plot_train_on_device.py",
    "plot_cpu_vs_gpu.py",
    "plot_record_frequency.py",
    "plot_first_step.py",
    # overheads/
    "plot_transfer_cost.py",
    "plot_launch_overhead.py",
    "plot_utilization.py",
    "plot_remedies.py",
    # your_model/
    "plot_advise.py",
]


class LessonOrder:
    """sphinx-gallery ``within_subsection_order`` key: listed files first, in list order."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __repr__(self) -> str:  # sphinx-gallery puts the repr in its config cache
        return f"<{self.__class__.__name__}>"

    def __call__(self, filename: str) -> tuple[int, str]:
        name = Path(filename).name
        rank = LESSON_ORDER.index(name) if name in LESSON_ORDER else len(LESSON_ORDER)
        return rank, name
