"""Write ``torch.inv``: a small Sphinx inventory of the torch objects this site links to.

PyTorch publishes an ``objects.inv``, but no package ships it, and the docs build must work
offline. This lists only objects whose pages and anchors are stable on docs.pytorch.org, in
Sphinx's inventory format (version 2: a header, then zlib-compressed lines of
``name domain:role priority uri display-name``). Run it again after adding an entry.
"""

from __future__ import annotations

import zlib
from pathlib import Path

BASE = "https://docs.pytorch.org/docs/stable/"
OBJECTS = [
    ("torch.Tensor", "py:class", "tensors.html#$"),
    ("torch.device", "py:class", "tensor_attributes.html#$"),
    ("torch.dtype", "py:class", "tensor_attributes.html#$"),
    ("torch.compile", "py:function", "generated/$.html#$"),
    ("torch.nn.Module", "py:class", "generated/$.html#$"),
    # Where type hints name it: the class's defining module (its page is torch.nn.Module's).
    (
        "torch.nn.modules.module.Module",
        "py:class",
        "generated/torch.nn.Module.html#torch.nn.Module",
    ),
    ("torch.nn.Linear", "py:class", "generated/$.html#$"),
    ("torch.nn.ReLU", "py:class", "generated/$.html#$"),
    ("torch.nn.functional.cross_entropy", "py:function", "generated/$.html#$"),
    ("torch.cuda.synchronize", "py:function", "generated/$.html#$"),
    ("torch.cuda.CUDAGraph", "py:class", "generated/$.html#$"),
    ("torch.utils.benchmark", "py:module", "benchmark_utils.html#module-$"),
    ("torch.utils.benchmark.Timer", "py:class", "benchmark_utils.html#$"),
    ("torch.profiler", "py:module", "profiler.html#module-$"),
]


def main() -> None:
    header = (b"# Sphinx inventory version 2\n# Project: PyTorch\n# Version: stable\n"
              b"# The remainder of this file is compressed using zlib.\n")  # fmt: skip
    body = "".join(f"{name} {role} 1 {uri.replace('$', name)} -\n" for name, role, uri in OBJECTS)
    body = body.encode()
    Path(__file__).with_name("torch.inv").write_bytes(header + zlib.compress(body))


if __name__ == "__main__":
    main()
