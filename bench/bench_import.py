"""Import speed and memory: a generated 1,000,000-row CSV through a real RQ worker.

    .venv/bin/python bench/bench_import.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/bench_import.py --backends sqlite --rows 200000

The file has email, name and 3 attributes; 2% of the rows are invalid addresses and 3%
repeat an earlier address. For each database the script makes a fresh, empty database (a
temporary SQLite file; a new PostgreSQL database `edm_bench_<pid>` on the server named by
--postgres, dropped afterwards), migrates it, queues one import on the `imports` queue and
runs `manage.py rqworker --burst imports`. It prints:

- rows/s: rows in the file / the job's own time (Import.started_at to finished_at);
- peak RSS of the worker, work horse included (wait4's ru_maxrss of the worker process,
  which covers the children it waited for);
- on PostgreSQL, psql's own `\\copy` of the same file into a plain table: the ceiling.

Redis: REDIS_URL if set (database 1 unless the URL names one), else a private redis-server.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CITIES = ["Berlin", "Shanghai", "São Paulo", "Zürich", "東京", "Lagos", "Austin", "Kraków"]
PLANS = ["free", "pro", "team", "enterprise"]


def generate(path: Path, rows: int, seed: int = 7) -> tuple[int, int]:
    """Write the CSV; returns (invalid rows, duplicate rows)."""
    rng = random.Random(seed)
    invalid = duplicates = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,name,city,plan,signup\r\n")
        for i in range(rows):
            kind = i % 100
            if kind in (1, 51):  # 2% invalid
                email = f"user{i}.example.com" if i % 2 else f"user{i}@@example.com"
                invalid += 1
            elif kind in (3, 5, 7) and i > 100:  # 3% repeat an earlier, ordinary row
                j = i - 1 - 100 * rng.randrange(0, min(i // 100, 500))
                email = f"user{j}@Example{j % 997}.COM"  # the same address once normalized
                duplicates += 1
            else:
                email = f"user{i}@example{i % 997}.com"
            out.write(
                f"{email},Person {i},{rng.choice(CITIES)},{rng.choice(PLANS)},"
                f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}\r\n"
            )
    return invalid, duplicates


def redis_url(workdir: Path) -> tuple[str, subprocess.Popen | None]:
    url = os.environ.get("REDIS_URL")
    if url:
        parts = urlsplit(url)
        if parts.scheme == "redis" and parts.path in ("", "/"):
            url = urlunsplit(parts._replace(path="/1"))
        return url, None
    from edm import embedded_redis

    sock = workdir / "redis.sock"
    server = subprocess.Popen(
        embedded_redis.server_argv(sock, workdir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not embedded_redis.answers(sock):
        time.sleep(0.05)
    return embedded_redis.url(sock), server


def psql(url: str, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", *args],
        check=True,
        capture_output=capture,
        text=True,
    )
    return result.stdout if capture else ""


def copy_ceiling(url: str, csv_path: Path) -> float:
    """Seconds psql's \\copy takes to load the file into a plain table."""
    psql(
        url,
        "-c",
        "CREATE TABLE bench_copy (email text, name text, city text, plan text, signup text)",
    )
    started = time.perf_counter()
    psql(url, "-c", f"\\copy bench_copy FROM '{csv_path}' WITH (FORMAT csv, HEADER true)")
    elapsed = time.perf_counter() - started
    psql(url, "-c", "DROP TABLE bench_copy")
    return elapsed


def run_import(env: dict[str, str], csv_path: Path, profile: str | None = None) -> dict:
    """Migrate, queue the import, run a burst worker; the measurements as a dict."""
    python, manage = sys.executable, str(ROOT / "manage.py")
    subprocess.run([python, manage, "migrate", "-v0"], env=env, check=True)
    queue_script = f"""
from campaigns.models import ContactList
from campaigns.selectors.imports import import_preview
from campaigns.services import imports
from campaigns.uploads import new_upload_path
import shutil
path = new_upload_path("bench.csv")
shutil.copyfile({str(csv_path)!r}, path)
contact_list = ContactList.objects.create(name="bench")
imp = imports.import_create(contact_list=contact_list, path=path, file_name="bench.csv")
imports.import_start(imp, mapping=import_preview(imp).guess, mode="add_update")
print(imp.pk)
"""
    out = subprocess.run(
        [python, manage, "shell", "-c", queue_script],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    import_id = int(out.stdout.strip().splitlines()[-1])
    started = time.perf_counter()
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    worker = subprocess.Popen(
        [python, *profiler, manage, "rqworker", "--burst", "imports"], env=env
    )
    _, status, usage = os.wait4(worker.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"rqworker exited with status {status}")
    report_script = f"""
from campaigns.models import Import
i = Import.objects.get(pk={import_id})
print(i.status, (i.finished_at - i.started_at).total_seconds(), i.rows_read, i.created, i.updated,
      i.duplicates, i.invalid, repr(i.error))
"""
    out = subprocess.run(
        [python, manage, "shell", "-c", report_script],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    last = out.stdout.strip().splitlines()[-1]  # after anything the shell itself prints
    status_text, seconds, rows, created, _, dups, invalid, error = last.split(" ", 7)
    return {
        "status": status_text,
        "seconds": float(seconds),
        "wall": wall,
        "rows": int(rows),
        "created": int(created),
        "duplicates": int(dups),
        "invalid": int(invalid),
        "error": error.strip(),
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }


def report(backend: str, result: dict) -> None:
    rate = result["rows"] / result["seconds"]
    error = "" if result["error"] == repr("") else f" error: {result['error']}"
    print(
        f"{backend}: {result['status']}, {rate:,.0f} rows/s ({result['seconds']:.1f} s in the job, "
        f"{result['wall']:.1f} s with worker start), peak worker RSS "
        f"{result['peak_rss_mb']:.0f} MB; created {result['created']:,}, duplicates "
        f"{result['duplicates']:,}, invalid {result['invalid']:,}{error}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server URL; a fresh database is created on it",
    )
    parser.add_argument("--profile", metavar="FILE", help="run the worker under cProfile")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="edm-bench-"))
    redis, redis_server = redis_url(workdir)
    try:
        csv_path = workdir / "contacts.csv"
        started = time.perf_counter()
        invalid, duplicates = generate(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1024 / 1024
        print(
            f"file: {args.rows:,} rows, {size_mb:.0f} MB, {invalid:,} invalid, "
            f"{duplicates:,} duplicates (generated in {time.perf_counter() - started:.1f} s)"
        )
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
        for backend in args.backends.split(","):
            env = {**os.environ, "REDIS_URL": redis, "EDM_VAR_DIR": str(workdir / backend)}
            database = None
            if backend == "sqlite":
                env["DATABASE_URL"] = f"sqlite:///{workdir / backend / 'bench.sqlite3'}"
            else:
                server = urlsplit(args.postgres)
                database = f"edm_bench_{os.getpid()}"
                env["DATABASE_URL"] = urlunsplit(server._replace(path=f"/{database}"))
                psql(args.postgres, "-c", f"CREATE DATABASE {database}")
            try:
                report(backend, run_import(env, csv_path, args.profile))
                if database is not None:
                    seconds = copy_ceiling(env["DATABASE_URL"], csv_path)
                    rate = args.rows / seconds
                    print(
                        f"{backend}: \\copy of the same file: {rate:,.0f} rows/s ({seconds:.1f} s)"
                    )
            finally:
                if database is not None:
                    psql(args.postgres, "-c", f"DROP DATABASE IF EXISTS {database}")
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
    finally:
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
