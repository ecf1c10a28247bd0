"""Refresh docs/screenshot.png: the demo practice in headless Chromium (``make screenshot``).

Builds a throwaway SQLite demo database, serves it with runserver on a free local port, signs in as the
receptionist and photographs a client page with their pets. Uses Debian's /usr/bin/chromium through Playwright.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshot.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="vetpms-shot-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "VETPMS_TESTING"}}
    env.update(DEBUG="1", SQLITE_PATH=str(tmp / "demo.sqlite3"), LOG_LEVEL="WARNING")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo")
    pk = manage(
        env,
        "shell",
        "-c",
        "from clients.models import Client; from django.db.models import Count; "
        "print(Client.objects.filter(organisation='', is_active=True).annotate(n=Count('animals'))"
        ".filter(n__gte=2).order_by('id').first().pk)",
    ).split()[-1]
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urlopen(f"{base}/accounts/login/", timeout=1)  # noqa: S310 - our own local server
                break
            except OSError:
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 820}, locale="en-GB")
            page.goto(f"{base}/accounts/login/")
            page.fill("input[name=username]", "reception")
            page.fill("input[name=password]", "demo-reception-2026")
            page.locator("form [type=submit]").first.click()
            page.wait_for_load_state()
            page.goto(f"{base}/clients/{pk}/")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
