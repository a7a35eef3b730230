"""Type-check the README's complete Python examples with mypy --strict (run by `nox -s typecheck`).

A block that starts with an import and runs itself (`asyncio.run(`) is a whole program: it must
pass `mypy --strict`. Then the
first one is checked again with a typo in an architecture, which must fail: the API is typed
tightly enough that such a typo is caught before anything runs.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def programs(text: str) -> list[str]:
    return [
        b
        for b in BLOCK.findall(text)
        if b.lstrip().startswith(("import ", "from ")) and "asyncio.run(" in b
    ]


def check(source: str, folder: Path, name: str) -> tuple[int, str]:
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    out, err, status = api.run(["--strict", "--no-incremental", str(path)])
    return status, out + err


def main() -> int:
    blocks = programs((ROOT / "README.md").read_text(encoding="utf-8"))
    if not blocks:
        print("readme_types: the README has no complete Python example")
        return 1
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for index, block in enumerate(blocks):
            status, report = check(block, folder, f"readme_{index}")
            if status != 0:
                failed = True
                print(f"readme_types: README example {index + 1} fails mypy --strict:\n{report}")
        typo = blocks[0].replace('"arm64-v8a"', '"arm64_v8a"', 1)
        if typo != blocks[0]:
            status, _ = check(typo, folder, "readme_typo")
            if status == 0:
                failed = True
                print("readme_types: a typo in an architecture passed type checking")
    if not failed:
        print(f"readme_types: {len(blocks)} README example(s) pass mypy --strict; a typo does not")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
