"""Installs the CUDA stand-in (tests/cuda_standin.py) at start-up when DEVICELAB_CUDA_STANDIN=1.

Put this folder on PYTHONPATH (``cuda_standin.site_env()`` does, and so does
``bash results/record.sh --dry-run OUT``): every Python process started with it, child
processes included, then reports one CUDA device whose tensors stay on the CPU.
"""

import os
import sys

if os.environ.get("DEVICELAB_CUDA_STANDIN") == "1":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import cuda_standin

    cuda_standin.install()
