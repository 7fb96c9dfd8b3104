"""tools/notebook_runner.py: what it records about a run."""

from __future__ import annotations

import nbformat
import numpy as np

from tools import notebook_runner


def test_peak_memory_is_the_kernels_own(tmp_path):
    # The runner may be large when it starts a kernel (it converts the offline
    # models in-process).  The recorded peak must not include that.
    source = tmp_path / "tiny.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np\nx = np.ones(64 * 2**20 // 8)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, source)
    ballast = np.ones(1536 * 2**20 // 8)  # 1.5 GB, touched, alive while the kernel starts
    notebook_runner.execute(source, tmp_path / "out.ipynb")
    del ballast
    peak_mb = nbformat.read(tmp_path / "out.ipynb", as_version=4).metadata["run_info"]["peak_rss_kb"] / 1024
    assert 64 < peak_mb < 1024, peak_mb
