"""Let a virtual environment's interpreter keep the bytecode it compiles, whatever PYTHONDONTWRITEBYTECODE says.

The environments of this project (.venv, and the Colab/Kaggle stand-ins of tests/notebooks/platforms.py)
are installed with `pip install --no-compile`: compiling every installed module is most of an install
(.venv: 130 of 190 s; a platform environment: 64 of 106 s), and only about a fifth of them are ever
imported.  Python then compiles a module on its first import and writes the result next to it, unless
PYTHONDONTWRITEBYTECODE is set, as it is on the build machines: there, every process would compile
torch and transformers again (about 14 s).  A `.pth` file in site-packages runs one line when the
interpreter starts; this one turns writing back on for that environment only.

pip compiles in silence; Python compiling on import reports what it finds in a third-party module, such as
jieba's invalid escape sequences (a SyntaxWarning from Python 3.12, which a notebook would show under the
cell that imports it).  The same line hides that one message for modules under site-packages, as pip did.

    python -m tools.write_bytecode [PYTHON]     # default: the running interpreter's environment
"""

import subprocess
import sys
from pathlib import Path

NAME = "llm_roadmap_write_bytecode.pth"
LINE = ("import sys, warnings; sys.dont_write_bytecode = False; "
        "warnings.filterwarnings('ignore', 'invalid escape sequence', module=r'.*[\\\\/]site-packages[\\\\/]')\n")


def enable(python: str | Path = sys.executable) -> Path:
    """Write the .pth file into the site-packages of `python`'s environment; return its path."""
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    pth = Path(purelib) / NAME
    pth.write_text(LINE, encoding="utf-8")
    return pth


if __name__ == "__main__":
    enable(sys.argv[1] if len(sys.argv) > 1 else sys.executable)
