import sys
from pathlib import Path

# `volta_sweep` lives beside this folder; no install step.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
