"""Run the benchmarks: ``python -m benchmarks [--only NAME ...] [--size city]``."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="*", help="benchmark names (e.g. bulk_load occupancy)")
    parser.add_argument("--size", default="city", choices=["small", "city", "province"])
    parser.add_argument("--json", dest="json_out", type=Path, help="also write all figures here")
    args = parser.parse_args(argv)

    here = Path(__file__).parent
    names = sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_")
    )
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            parser.error(f"unknown benchmark(s) {sorted(unknown)}; known: {names}")
        names = [n for n in names if n in args.only]
    results = {}
    for name in names:
        print(f"\n=== benchmark {name} (size={args.size}) ===", flush=True)
        start = time.perf_counter()
        module = importlib.import_module(f"benchmarks.bench_{name}")
        results[name] = module.main(args.size)
        print(f"=== {name} done in {time.perf_counter() - start:.1f} s ===", flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
