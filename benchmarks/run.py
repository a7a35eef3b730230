"""storepush's benchmarks: `python benchmarks/run.py [--quick] [--only NAME...]`.

Runs each chosen benchmark (one module each, returning a typed result) and rewrites
benchmarks/RESULTS.md with the report writer: the targets table first, then one section per
benchmark. A benchmark that fails is reported as failed; the others still run. Every figure is
measured in this run; ratios compare contenders measured side by side, repeatedly.

Sample files are cached in `benchmarks/.work/` (ignored by git; `--work` for elsewhere); the
cache is keyed by the sample makers' source, so it is never stale.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_batch  # noqa: E402
import bench_decoding  # noqa: E402
import bench_ingest  # noqa: E402
import bench_limiter  # noqa: E402
import bench_overhead  # noqa: E402
import bench_publish  # noqa: E402
import bench_redis  # noqa: E402
import bench_startup  # noqa: E402
import bench_upload  # noqa: E402
from harness import Context, git_revision, machine, versions  # noqa: E402
from report import Failed, Header, Result, render  # noqa: E402

#: In report order: what users feel first, then the parts, then what is still to come.
BENCHMARKS: list[ModuleType] = [
    bench_publish,
    bench_batch,
    bench_startup,
    bench_upload,
    bench_ingest,
    bench_overhead,
    bench_decoding,
    bench_limiter,
    bench_redis,
]
NAMES = [module.NAME for module in BENCHMARKS]


def run_one(module: ModuleType, ctx: Context) -> Result:
    started = time.monotonic()
    print(f"-- {module.NAME}: {module.TITLE}", file=sys.stderr, flush=True)
    runner: Callable[[Context], Result] = module.run
    try:
        result = runner(ctx)
    except Exception as exc:  # one benchmark's failure must not lose the others' figures
        traceback.print_exc()
        result = Failed(module.TITLE, f"{type(exc).__name__}: {exc}")
    print(f"   {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="storepush's benchmarks; rewrites RESULTS.md")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help=", ".join(NAMES))
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--work", type=Path, default=HERE / ".work", help="sample-file cache")
    args = parser.parse_args(argv)
    chosen = [m for m in BENCHMARKS if not args.only or m.NAME in args.only]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    ctx = Context(quick=args.quick, work=args.work.resolve(), out_dir=args.out.parent.resolve())
    started = time.monotonic()
    results = [run_one(module, ctx) for module in chosen]
    header = Header(
        machine=machine(),
        versions=versions(),
        revision=git_revision(),
        quick=args.quick,
        sections=[m.NAME for m in chosen],
        all_sections=NAMES,
        seconds=time.monotonic() - started,
    )
    text = render(header, results)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 1 if any(isinstance(r, Failed) for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
