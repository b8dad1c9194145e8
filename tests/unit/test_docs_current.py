"""The generated docs pages match the modules' DOCUMENTATION and the roles' argument specs (run `make docs`)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_generated_docs_are_current():
    result = subprocess.run([sys.executable, str(REPO / "lab" / "setup" / "gen_docs.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"stale docs pages, run `make docs`:\n{result.stdout}{result.stderr}"
