"""Finds a Python that has matplotlib. The first python3 on PATH may be another installation
(pyenv, a virtual environment) without it; Debian's /usr/bin/python3 has it once
python3-matplotlib is installed. Entry scripts call ensure_matplotlib() before importing it."""

import os
import sys

DEBIAN_PYTHON = "/usr/bin/python3"


def ensure_matplotlib() -> None:
    """Returns if matplotlib imports here; otherwise re-runs the current script under Debian's
    python3 when that is another interpreter, or exits with a message saying what to install."""
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    here = os.path.realpath(sys.executable or "")
    if (os.path.exists(DEBIAN_PYTHON) and os.path.realpath(DEBIAN_PYTHON) != here
            and not os.environ.get("PARMAP_PYTHON_REEXEC")):
        os.environ["PARMAP_PYTHON_REEXEC"] = "1"
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    sys.exit(f"{os.path.basename(sys.argv[0])}: matplotlib is missing for {sys.executable}; "
             "install it with 'sudo apt-get install python3-matplotlib' (or run "
             "bash scripts/setup.sh) and use /usr/bin/python3")
