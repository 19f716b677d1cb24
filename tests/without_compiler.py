"""A machine without a C or C++ compiler, as most Windows laptops and many Macs are.

:func:`env_without_compiler` returns this process's environment with every compiler taken off
``PATH`` and ``CC``/``CXX`` pointing at a path that does not exist. The other tools on ``PATH``
stay reachable: each folder that holds a compiler is replaced by a folder of links to
everything else in it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: Names of C and C++ compilers and their versioned or cross variants (g++-12,
#: x86_64-linux-gnu-gcc, clang++-17, ...), and MSVC's cl.
COMPILER = re.compile(
    r"^(?:[\w.-]+-)?(?:cc|c\+\+|gcc|g\+\+|clang|clang\+\+|cpp|cl)(?:-\d+(?:\.\d+)*)?(?:\.exe)?$"
)


def env_without_compiler(tmp: Path) -> dict[str, str]:
    """``os.environ`` with no compiler on ``PATH``; shadow folders are made under ``tmp``."""
    folders = []
    for i, entry in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        folder = Path(entry)
        if not folder.is_dir():
            continue
        names = sorted(os.listdir(folder))
        if not any(COMPILER.match(name) for name in names):
            folders.append(entry)
            continue
        shadow = tmp / f"path-{i}"
        shadow.mkdir(parents=True)
        for name in names:
            if not COMPILER.match(name):
                (shadow / name).symlink_to(folder / name)
        folders.append(str(shadow))
    missing = tmp / "no-such-compiler"
    return dict(
        os.environ,
        PATH=os.pathsep.join(folders),
        CC=str(missing / "cc"),
        CXX=str(missing / "c++"),
    )
