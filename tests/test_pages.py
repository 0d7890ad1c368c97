"""The pages in a real browser: headless Chromium (Debian's chromium + chromium-driver, via selenium).

Install on Debian/Ubuntu: `apt-get install -y chromium chromium-driver` and `pip install selenium`.
Without them these tests skip and say so.
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from episodefixtures import make_config, make_episode
from macaw.publish.serve import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
except ImportError:  # pragma: no cover - depends on the machine
    selenium = None

_MISSING = "headless Chromium not available: apt-get install -y chromium chromium-driver; pip install selenium"
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and selenium), reason=_MISSING)

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--mute-audio", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    config = make_config(out)
    manifest = make_episode(config, seconds=6.0)
    srv = make_server(out, port=0)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", manifest
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def wait_for(driver, script, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def test_index_lists_the_episode(browser, site):
    base, manifest = site
    browser.get(f"{base}/feeds/index.html")
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('ul.episodes a')).map(a => [a.textContent, a.href])")
    assert links == [[manifest.title, f"{base}/feeds/episodes/{manifest.id}.html"]]
    assert browser.execute_script("return document.querySelector('header img').naturalWidth") == 1400


def test_episode_page_plays_seeks_and_follows(browser, site):
    base, manifest = site
    browser.get(f"{base}/feeds/episodes/{manifest.id}.html")
    duration = wait_for(browser, "var a = document.getElementById('player'); "
                                 "return a.readyState >= 1 && isFinite(a.duration) && a.duration;")
    assert abs(duration - manifest.duration_s) < 0.3

    # The transcript is built from the VTT cues.
    wait_for(browser, "return document.getElementById('transcript').dataset.ready === 'true'")
    lines = browser.execute_script(
        "return Array.from(document.querySelectorAll('#transcript li')).map(li => li.textContent)")
    assert lines[0] == "Welcome to the show." and len(lines) == 5

    # Clicking the last chapter moves the playhead there.
    target = manifest.chapters[-1].start
    buttons = browser.find_elements("css selector", "#chapters button")
    assert len(buttons) == len(manifest.chapters)
    buttons[-1].click()
    now = wait_for(browser, f"var t = document.getElementById('player').currentTime; "
                            f"return t >= {target - 0.05} && t;")
    assert target - 0.05 <= now < manifest.duration_s + 0.1

    # ...and the transcript follows: the cue under the playhead is highlighted.
    browser.execute_script("var a = document.getElementById('player'); a.pause(); a.currentTime = 1.3;")
    active = wait_for(browser, "var li = document.querySelector('#transcript li.active'); return li && li.textContent;")
    assert active == "Today we read a paper about attention."


def test_injected_title_does_not_run(browser, tmp_path):
    config = make_config(tmp_path)
    make_episode(config, "journal-x", kind="journal", title='<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>',
                 metadata={}, audio_bytes=b"ID3fake")
    srv = make_server(tmp_path, port=0)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{srv.server_address[1]}/feeds/episodes/journal-x.html")
        assert browser.execute_script("return window.pwned === undefined")
        assert "<script>window.pwned=2</script>" in browser.find_element("css selector", "h1").text
    finally:
        srv.shutdown()
        srv.server_close()
