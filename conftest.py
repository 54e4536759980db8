"""Settings for every test run, the doctests under src/ included: offline, and the repo's model cache.

Here rather than in tests/conftest.py so that ``pytest src`` (the doctests alone) runs offline too: nothing a
test or a doctest does may reach the network.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("VISIONR1_CACHE", str(Path(__file__).resolve().parent / ".cache"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
