"""Reading a big XLSX: openpyxl's read-only streaming parser against python-calamine.

    .venv/bin/python bench/bench_xlsx.py [--rows 200000]

Each reader runs in its own process (so peak RSS is its own) over the same generated sheet
(email, name and three attribute columns). python-calamine is not a dependency of the
product; install it into the virtualenv to include it (`pip install python-calamine`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

READERS = {
    "openpyxl (read-only)": """
import openpyxl
sheet = openpyxl.load_workbook(PATH, read_only=True, data_only=True).worksheets[0]
rows = sum(1 for _ in sheet.iter_rows(values_only=True))
""",
    "python-calamine": """
from python_calamine import CalamineWorkbook
sheet = CalamineWorkbook.from_path(PATH).get_sheet_by_index(0)
rows = sum(1 for _ in sheet.iter_rows())
""",
}


def generate(path: Path, rows: int) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["email", "name", "city", "plan", "score"])
    for i in range(rows):
        sheet.append([f"user{i}@example.com", f"Person {i}", "Berlin", "pro", i])
    workbook.save(path)


def measure(code: str, path: Path) -> str:
    script = (
        f"import resource, time\nPATH = {str(path)!r}\nstarted = time.perf_counter()\n{code}\n"
        "print(rows, time.perf_counter() - started, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return f"not run ({result.stderr.strip().splitlines()[-1]})"
    rows, seconds, rss = result.stdout.split()
    return f"{int(rows) / float(seconds):,.0f} rows/s, peak RSS {float(rss):.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "contacts.xlsx"
        generate(path, args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1024 / 1024:.1f} MB")
        for name, code in READERS.items():
            print(f"{name}: {measure(code, path)}")


if __name__ == "__main__":
    main()
