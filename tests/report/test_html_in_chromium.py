"""The HTML reports of the README's lost update and of the dining philosophers' deadlock,
rendered in headless Chromium (Debian's ``chromium`` package): the page draws something, its
script runs to the end, and the console stays empty.

``.ci/run`` installs Chromium, so this runs in CI (and fails there without it). On another
machine without it the test is skipped, and the session ends with a line that says so and how
to install it (``tests/report/conftest.py``); it never installs anything itself.
``INTERLEAVE_SCREENSHOTS=DIR`` keeps the screenshots (the ones in
``docs/images/`` were made that way).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from gallery import results
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Flags for a root user on a machine without a network or a display.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)
#: The screenshot's name -> (the gallery's result, the window: tall enough for a timeline).
PAGES = {"lost-update": ("lost_update", 1250), "deadlock": ("dining_philosophers", 1900)}
WIDTH = 1200


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("headless Chromium is not installed here (apt-get install chromium)")
    return CHROMIUM


def _run(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_the_report_renders_in_headless_chromium(kind: str, chromium: str, tmp_path: Path) -> None:
    page = tmp_path / f"{kind}.html"
    name, height = PAGES[kind]
    page.write_text(results()[name].to_html(), encoding="utf-8")
    shot = tmp_path / f"{kind}.png"

    dom = _run(chromium, tmp_path, "--dump-dom", page.as_uri())
    _run(
        chromium,
        tmp_path,
        "--hide-scrollbars",
        f"--window-size={WIDTH},{height}",
        f"--screenshot={shot}",
        page.as_uri(),
    )

    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "the page wrote to the console:\n" + "\n".join(console)
    assert 'data-ready="yes"' in dom.stdout  # the script ran to its end
    assert "<svg" in dom.stdout

    with Image.open(shot) as image:
        assert image.size == (WIDTH, height)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    white = sum(n for n, colour in colours if colour == (255, 255, 255))
    assert len(colours) > 20, f"only {len(colours)} colours: a blank page?"
    assert white < 0.95 * WIDTH * height, "less than 5% of the page is drawn"
    keep = os.environ.get("INTERLEAVE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / f"html-report-{kind}.png")
