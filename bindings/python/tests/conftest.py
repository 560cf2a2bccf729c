import sys
from pathlib import Path

# The shared vector reader (bindings/vectors/jool.py), used by the C and Node tests too.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "vectors"))
