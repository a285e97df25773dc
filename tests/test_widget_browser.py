"""A real browser moves Lesson 2's slider and the plot changes.

Voilà serves lessons/02_vanishing_exploding.ipynb on 127.0.0.1 (a free port, fast mode,
worked solutions); Playwright drives Debian's Chromium (/usr/bin/chromium, headless, no
sandbox, background networking off); the test presses → on the `scale` slider's handle
and waits until the ‖∂L/∂h⟨t⟩‖ plot's image is a different picture.

Skips, with the reason, where /usr/bin/chromium, voila or playwright is missing
(`.ci/run` installs Debian's chromium so that it runs in CI).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TINYTAPE_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "lessons" / "02_vanishing_exploding.ipynb"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.slow

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)", allow_module_level=True)
pytest.importorskip("voila", reason="the browser test serves the lesson with Voilà (pip install voila)")
playwright_sync = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright (pip install playwright)")
pytest.importorskip("ipykernel", reason="Voilà needs ipykernel to run the notebook")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited early with code {proc.returncode}")
        try:  # a cheap URL: GET / would start a kernel and run the whole notebook
            with urllib.request.urlopen(url + "voila/static/does-not-exist", timeout=2):
                return
        except urllib.error.HTTPError:  # any HTTP answer (404 here) means the server is up
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"voila did not answer at {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory):
    port = free_port()
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or shutil.which("voila")
    cmd = [voila, str(LESSON), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
           "--show_tracebacks=True", f"--Voila.root_dir={LESSON.parent}"]
    env = {**os.environ, "TINYTAPE_FAST": "1", "TINYTAPE_SOLUTIONS": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=LESSON.parent, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, proc, timeout=60)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc.returncode not in (0, -15, None):
            print(log.read_text()[-3000:])


def plot_src(page) -> str:
    """The data URL of the image inside the sliders' output area."""
    return page.eval_on_selector(".widget-interact .widget-output img", "img => img.src")


def test_moving_the_scale_slider_redraws_the_gradient_plot(voila_url):
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # Voilà runs the whole notebook before it answers (fast mode: ~10 s alone; several
            # times that when the other pytest-xdist worker keeps both cores busy), then renders
            # the widgets. The limits are generous because slowness is not what this test checks.
            page.goto(voila_url, timeout=300_000)
            page.wait_for_selector(".widget-interact .widget-output img", timeout=300_000)
            before = plot_src(page)
            sliders = page.locator(".widget-interact .widget-hslider")
            assert sliders.count() == 2, "expected the T and scale sliders"
            scale = sliders.nth(1)
            assert "scale" in scale.inner_text()
            value_before = scale.locator(".widget-readout").inner_text()
            handle = scale.locator(".noUi-handle")
            handle.focus()
            for _ in range(4):                      # 1.0 -> 2.0 in steps of 0.25
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "before => { const img = document.querySelector('.widget-interact .widget-output img');"
                " return img && img.src !== before; }", arg=before, timeout=60_000)
            value_after = scale.locator(".widget-readout").inner_text()
            after = plot_src(page)
        finally:
            browser.close()
    assert value_before != value_after, f"the slider did not move ({value_before} -> {value_after})"
    assert after.startswith("data:image/png") and after != before
