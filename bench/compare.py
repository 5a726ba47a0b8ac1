"""Two bench results side by side: each figure in A and B and the ratio B / A.

    python bench/compare.py reports/bench/OLD.json reports/bench/NEW.json

For times a ratio above 1 is slower; for throughputs (req/s) above 1 is faster.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def load(path: str) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(Path(path).read_text())
        figures: dict[str, dict[str, object]] = data["figures"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"compare: {path}: not a bench/all.py result ({exc})") from None
    return figures


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    a, b = load(argv[0]), load(argv[1])
    names = [*a, *(n for n in b if n not in a)]
    width = max([len(n) for n in names] + [6])
    print(f"{'figure':<{width}}  {'A':>10}  {'B':>10}  {'B/A':>6}  unit")
    for name in names:
        va, vb = a.get(name, {}).get("value"), b.get(name, {}).get("value")
        unit = (a.get(name) or b.get(name) or {}).get("unit", "")
        ratio = (
            f"{vb / va:6.2f}"
            if isinstance(va, float | int) and isinstance(vb, float | int) and va
            else "     -"
        )
        shown = [f"{v:>10,.2f}" if isinstance(v, float | int) else f"{'-':>10}" for v in (va, vb)]
        print(f"{name:<{width}}  {shown[0]}  {shown[1]}  {ratio}  {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
