"""mkdocs hook: publish the benchmark plots (`benchmarks/*.png`) under `img/benchmarks/`.

The plots are written by `nox -s bench` beside `benchmarks/RESULTS.md`; the docs show the same
files rather than copies that could drift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files


def on_files(files: Files, config: Any) -> Files:
    root = Path(config["config_file_path"]).parent / "benchmarks"
    for image in sorted(root.glob("*.png")):
        files.append(
            File.generated(config, f"img/benchmarks/{image.name}", abs_src_path=str(image))
        )
    return files
