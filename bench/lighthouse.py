"""Lighthouse's accessibility and best-practices scores for the demo home page, in English and in
Japanese, as a phone (Lighthouse's default) and as a desktop browser.

    .venv/bin/python bench/lighthouse.py [--paths / /ja/] [--write docs/benchmarks.md]

What runs, all on this machine: gunicorn (production settings, 2 workers, a free loopback port)
serving the demo site from PostgreSQL (127.0.0.1:5432; the database `bench_lighthouse` is created
and finally dropped; `BENCH_LIGHTHOUSE_DATABASE_URL` names another) with Redis
(`BENCH_LIGHTHOUSE_REDIS_URL`, default db 9), and for each page and form factor

    CHROME_PATH=/usr/bin/chromium npx --yes lighthouse@12.2.3 URL \\
        --only-categories=accessibility,best-practices \\
        --chrome-flags="--headless=new --no-sandbox --disable-gpu" [--preset=desktop]

(npm fetches Lighthouse on first use; Debian's chromium is the browser). The page is loaded
as a first-time visitor sees it: no cookie, the consent banner shown. Any audit that lowers a
score is listed under the table. Exit status 1 when a score is below 95.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import servers  # noqa: E402
from bench.report import machine_description, write_section  # noqa: E402
from bench.servers import HOST, PG, free_port, wait_for_gunicorn  # noqa: E402

LIGHTHOUSE = "lighthouse@12.2.3"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CATEGORIES = ("accessibility", "best-practices")
TARGET = 0.95
DATABASE_URL = os.environ.get("BENCH_LIGHTHOUSE_DATABASE_URL", f"{PG}/bench_lighthouse")
REDIS_URL = os.environ.get("BENCH_LIGHTHOUSE_REDIS_URL", "redis://127.0.0.1:6379/9")
LOG = ROOT / "var" / "bench-lighthouse.log"
FORM_FACTORS = {"phone": [], "desktop": ["--preset=desktop"]}
DEFAULT_PATHS = ["/", "/ja/"]  # the home page in English and in Japanese


def environment() -> dict[str, str]:
    """The production settings of the server: plain HTTP on loopback (no secure cookies), the
    uploaded images served by the app (a deployment's web server does it in front of it)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-lighthouse-secret-key-" + "x" * 40,
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_SERVE_MEDIA": "1",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def lighthouse_command(url: str, extra: list[str], output: Path) -> list[str]:
    return [
        *("npx", "--yes", LIGHTHOUSE, url),
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        *extra,
        "--output=json",
        f"--output-path={output}",
        "--quiet",
    ]


def audit(url: str, extra: list[str]) -> dict:
    """Lighthouse's scores (0–100) for `url`, with the audits that lowered them."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "report.json"
        subprocess.run(  # noqa: S603
            lighthouse_command(url, extra, output),
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            check=True,
            timeout=300,
        )
        report = json.loads(output.read_text())
    scores, failing = {}, []
    for key in CATEGORIES:
        category = report["categories"][key]
        scores[key] = round(category["score"] * 100)
        for ref in category["auditRefs"]:
            result = report["audits"][ref["id"]]
            if ref.get("weight") and result.get("score") is not None and result["score"] < 1:
                failing.append(f"{key}: {ref['id']} ({result['title']})")
                for item in (result.get("details") or {}).get("items", [])[:5]:
                    found = " ".join(
                        str(item.get(k, "")) for k in ("description", "url", "sourceLocation")
                    )
                    print(f"    {ref['id']}: {found}", file=sys.stderr)
    return {"scores": scores, "failing": failing, "version": report["lighthouseVersion"]}


def run(paths: list[str]) -> list[dict]:
    env = environment()
    servers.prepare_demo(DATABASE_URL, env, ROOT)
    port = free_port()
    server = servers.start(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application", "--workers=2",
         "--log-level=warning", f"--bind={HOST}:{port}"],
        cwd=ROOT, env=env, log=LOG,
    )  # fmt: skip
    try:
        wait_for_gunicorn(server, port)
        rows = []
        for path in paths:
            for form_factor, extra in FORM_FACTORS.items():
                result = audit(f"http://{HOST}:{port}{path}", extra)
                rows.append({"path": path, "form_factor": form_factor, **result})
                print(path, form_factor, result["scores"], *result["failing"], sep="  ")
        return rows
    finally:
        servers.stop(server)
        servers.database(DATABASE_URL, "drop")


def report_lines(rows: list[dict], command: str) -> list[str]:
    lines = [
        f"`{command}` — Lighthouse {rows[0]['version']} (`npx --yes {LIGHTHOUSE}`, "
        f"`CHROME_PATH={CHROMIUM}`, headless) on the demo home page served by gunicorn with the "
        "production settings, as a first-time visitor (the consent banner shown). Target: "
        "accessibility ≥ 95 and best practices ≥ 95.",
        "",
        "| page | form factor | accessibility | best practices |",
        "| --- | --- | ---: | ---: |",
    ]
    for row in rows:
        scores = row["scores"]
        lines.append(
            f"| `{row['path']}` | {row['form_factor']} | {scores['accessibility']} "
            f"| {scores['best-practices']} |"
        )
    failing = sorted({item for row in rows for item in row["failing"]})
    lines += ["", "Audits not passed: " + ("; ".join(failing) if failing else "none") + "."]
    lines += ["", machine_description()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", nargs="+", default=DEFAULT_PATHS)
    parser.add_argument("--write", type=Path, help="rewrite this section of docs/benchmarks.md")
    args = parser.parse_args()
    rows = run(args.paths)
    options = [] if args.paths == DEFAULT_PATHS else ["--paths", *args.paths]
    options += ["--write", str(args.write)] if args.write else []
    command = shlex.join([".venv/bin/python", "bench/lighthouse.py", *options])
    if args.write:
        write_section(
            args.write, "lighthouse", "Lighthouse: the home page", report_lines(rows, command)
        )
    below = [row for row in rows if min(row["scores"].values()) < TARGET * 100]
    sys.exit(1 if below else 0)


if __name__ == "__main__":
    main()
