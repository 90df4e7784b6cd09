"""The served page fetches nothing from outside 127.0.0.1 (serve works without internet)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tui_optim.ui.serve import offline_templates

#: Addresses a browser would fetch: src= and href= attributes, CSS url(...) and @import.
FETCHED = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


def external(page: str) -> list[str]:
    urls = [a or b for a, b in FETCHED.findall(page)]
    return [url for url in urls if re.match(r"(https?:)?//", url) and "127.0.0.1" not in url]


def test_the_template_loads_the_font_from_the_static_folder() -> None:
    page = (offline_templates() / "app_index.html").read_text(encoding="utf-8")
    assert external(page) == []
    assert "fonts/RobotoMono-VariableFont_wght.ttf" in page


def test_the_served_page_fetches_nothing_from_another_host() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    code = f"from tui_optim.ui.serve import serve; serve(None, port={port})"
    server = subprocess.Popen(
        [sys.executable, "-c", code], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    page = answer.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("serve never answered")
                time.sleep(0.1)
        assert "<html" in page.lower()
        assert external(page) == []
    finally:
        server.terminate()
        server.wait(timeout=10)
