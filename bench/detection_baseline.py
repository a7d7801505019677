"""The multilingual-regex baseline of the shared detection sets, by language (precision and recall).

The regex is the candidate regex of ``shared/corpora/ceasefire-dev.README.md`` plus the four phrases
the dev2 README adds; title and text joined, case-insensitive, as both READMEs measure it. Compare
with ``monitor eval FILE`` and the cross-validated tables of ``monitor train``:

    python bench/detection_baseline.py ../shared/corpora/ceasefire-dev2.jsonl [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

REGEX = re.compile(
    "ceasefire|cease-fire|truce|armistice|перемири|прекращени\\w* огня|припинення вогню|перемир|հրադադար|atəşkəs"
    "|ateşkes|هدنة|وقف إطلاق النار|cessez-le-feu|trêve|waffenruhe|waffenstillstand|停火|休战"
    "|cessation of hostilities|humanitarian pause|alto el fuego|tregua",
    re.IGNORECASE,
)


def figures(path: Path) -> dict[str, dict[str, float]]:
    """Counts and precision/recall of the regex, overall ("all") and by language."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        hit = bool(REGEX.search(f"{item.get('title') or ''} {item.get('text') or ''}"))
        key = ("tp" if item["label"] else "fp") if hit else ("fn" if item["label"] else "tn")
        for group in ("all", str(item.get("lang") or "?")):
            counts[group][key] += 1
    out = {}
    for group, c in sorted(counts.items()):
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        out[group] = {**c, "precision": round(precision, 4), "recall": round(recall, 4)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = figures(args.file)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    print(f"{'lang':<6}{'tp':>5}{'fp':>5}{'fn':>5}{'tn':>5}{'precision':>11}{'recall':>8}")
    for group, c in found.items():
        print(f"{group:<6}{c['tp']:>5}{c['fp']:>5}{c['fn']:>5}{c['tn']:>5}{c['precision']:>11.3f}{c['recall']:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
