"""Run every benchmark in turn: C&W, harness overhead and training, AutoAttack against the official call, whole runs.

python benchmarks/run.py [--quick]   (--quick: fewer repetitions and a smaller ART budget)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    quick = "--quick" in sys.argv
    jobs = [
        ["cw.py"] + (["--art-iters", "50"] if quick else []),
        ["overhead.py"] + (["--repeat", "3", "--train-repeat", "1"] if quick else []),
        ["autoattack.py"] + (["--n", "30", "--repeat", "1"] if quick else []),
        ["runs.py"] + (["--repeat", "2"] if quick else []),
    ]
    for job in jobs:
        print(f"\n=== {' '.join(job)} ===", flush=True)
        subprocess.run([sys.executable, str(HERE / job[0]), *job[1:]], check=True, cwd=HERE)


if __name__ == "__main__":
    main()
