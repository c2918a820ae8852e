"""The hit-counter app behind HAProxy on the 5-host lab: site.yml with the app enabled (the demo's settings,
playbooks/vars/lab_demo.yml), requests from this machine to the published port of every host, the page a browser
gets (in a real headless Chromium: Debian's chromium package; skipped without it), HAProxy's statistics page,
scaling the web tier without touching HAProxy, an idempotent re-run and teardown.yml.

The server is the Aerospike simulator unless AEROSPIKE_IMAGE names a real server image on the local engine. The
simulator has no data path, so with it the app must answer every hit with a clean 503; the tests that count hits
(200 requests -> a grand total of 200 over several servers; new servers after scaling) need a real server and are
skipped otherwise.

    python -m pytest -m lab -s tests/lab/test_app.py
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from labtest_helpers import REPO, run_ok, wait_for
from simulator_image import REPOSITORY as SIMULATOR_REPOSITORY
from simulator_image import simulator_image

from aerostack_lab.engine import Engine
from aerostack_lab.images import ImageBuilder
from aerostack_lab.progress import Progress
from aerostack_lab.recipes import recipes, selection

pytestmark = pytest.mark.lab

AEROSPIKE_STACK = "apptest"
APP_STACK = "hits"
PORT = 8080
STATS_PORT = 8404
CHROMIUM = shutil.which("chromium")
NO_CHROMIUM = "chromium is not installed (apt-get install -y chromium; scripts/test installs it)"
#: Where the browser test leaves its screenshot of the page (docs/img/hitcounter-page.png is one of them).
SCREENSHOT = REPO / "tests" / "output" / "hitcounter-page.png"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
NO_DATA_PATH = "needs AEROSPIKE_IMAGE naming a real server image: the simulator has no data path, so hits are not counted"


class Demo:
    """The lab with the Aerospike stack and the app deployed the demo's way, and helpers to drive it."""

    def __init__(self, lab, image, tmp):
        self.lab = lab
        self.image = image
        self.real = not image.startswith(SIMULATOR_REPOSITORY + ":")
        self.vars_file = tmp / "app-vars.yml"
        settings = {
            "aerospike_image": image,
            "aerospike_stack_name": AEROSPIKE_STACK,
            "app_stack_name": APP_STACK,
            "app_verify_database": self.real,
        }
        if not self.real:
            settings["aerospike_command"] = ["--config", "/etc/aerostack/aerospike.conf"]
        self.vars_file.write_text(yaml.safe_dump(settings))

    def playbook(self, name, *extra, check=True):
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0")
        binary = Path(sys.executable).parent / "ansible-playbook"
        argv = [str(binary if binary.exists() else "ansible-playbook"), "-i", str(self.lab.inventory_path),
                str(REPO / "playbooks" / name), "-e", "@%s" % (REPO / "playbooks" / "vars" / "lab_demo.yml"),
                "-e", "@%s" % self.vars_file] + list(extra)
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(REPO), check=False)
        done.seconds = time.monotonic() - started
        done.recap = dict((m.group(1), {"changed": int(m.group(3)), "failed": int(m.group(5))})
                          for m in RECAP.finditer(done.stdout))
        if check and (done.returncode != 0 or not done.recap):
            raise AssertionError("%s failed (rc %d):\n%s\n%s" % (name, done.returncode, done.stdout[-6000:],
                                                                 done.stderr[-2000:]))
        print("\n[timing] %s %s: %.1f s" % (name, " ".join(extra), done.seconds))
        return done

    def url(self, host, path, port=PORT):
        return "http://%s:%d%s" % (self.lab.host(host).address, port, path)

    def docker(self, *argv):
        return run_ok(self.lab, "lab1", ["docker"] + list(argv), "docker " + " ".join(argv[:2]))

    def task_ids(self, service):
        out = self.docker("service", "ps", "-q", "--filter", "desired-state=running", service)
        return sorted(out.split())


def get(url):
    """(status, JSON body or the raw text) of a GET; a refused connection is (None, reason)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError) as error:
        return None, str(error)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def stats(demo):
    status, body = get(demo.url("lab1", "/stats"))
    assert status == 200, body
    return body


def haproxy_backends(demo, host="lab1"):
    """``{slot: state}`` of the web backend's slots, from HAProxy's statistics page (CSV) on ``host``."""
    status, text = get(demo.url(host, "/stats;csv", port=STATS_PORT))
    assert status == 200, (status, text)
    lines = text.splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
    return dict((row["svname"], row["status"]) for row in rows if row["pxname"] == "web" and row["svname"] != "BACKEND")


def up_backends(demo, host="lab1"):
    return sorted(slot for slot, state in haproxy_backends(demo, host).items() if state == "UP")


def chromium(url, *flags):
    """Run headless Chromium once on ``url`` with a fresh profile; its stdout (the DOM with --dump-dom)."""
    with tempfile.TemporaryDirectory(prefix="aerostack-chromium-") as profile:
        done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                               "--no-first-run", "--disable-background-networking", "--disable-component-update",
                               "--disable-sync", "--user-data-dir=" + profile] + list(flags) + [url],
                              capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, "chromium %s %s failed (rc %d): %s" % (
        " ".join(flags), url, done.returncode, done.stderr[-2000:])
    return done.stdout


def answering_server(dom):
    found = re.search(r'<strong id="server">([^<]+)</strong>', dom)
    assert found, "the page names no answering server:\n" + dom[-3000:]
    return found.group(1)


@pytest.fixture(scope="module")
def demo(make_lab, tmp_path_factory):
    image = os.environ.get("AEROSPIKE_IMAGE") or simulator_image()
    ImageBuilder(Engine(), REPO / ".cache" / "lab", Progress(quiet=True)).ensure("app")
    lab = make_lab("app", hosts=5)
    lab.load([image] + [recipes()[short].image for short in selection("app")])
    demo = Demo(lab, image, tmp_path_factory.mktemp("app"))
    demo.site = demo.playbook("site.yml")
    return demo


def test_site_with_the_app_enabled_reports_the_app_and_its_urls(demo):
    out = demo.site.stdout
    assert "hits: 3 web task(s), HAProxy on lab1, lab2, lab3, lab4, lab5" in out
    assert "URL: " + "  ".join("http://%s:%d/" % (h.address, PORT) for h in demo.lab.hosts) in out
    if demo.real:
        assert "database: usable (seed tasks.apptest_aerospike:3000, namespace test)" in out
    else:
        assert "database: NOT usable, every hit answers 503: database not connected" in out
    assert ("HAProxy statistics: " + "  ".join("http://%s:%d/stats" % (h.address, STATS_PORT) for h in demo.lab.hosts)
            + " (clients from 198.18.0.0/15, no password)") in out
    assert "WARNING: app_lb_stats_auth is false" in out, "the lab's page without a password is a warning"


def test_haproxy_answers_on_every_host_from_the_web_tasks(demo):
    seen = set()
    for host in demo.lab.hosts:
        for _attempt in range(3):
            status, body = get(demo.url(host.name, "/live"))
            assert status == 200 and body["status"] == "alive", (host.name, status, body)
            seen.add(body["server"])
    assert seen == {"web-1", "web-2", "web-3"}, "HAProxy balances over every web task"


def test_health_through_haproxy_tells_whether_the_database_is_usable(demo):
    status, body = get(demo.url("lab3", "/health"))
    if demo.real:
        assert (status, body["status"], body["database"]) == (200, "ok", "connected")
    else:
        assert status == 503 and body["status"] == "unavailable", body
        assert body["error"].startswith("database not connected (cannot connect to tasks.apptest_aerospike:3000: ")


def test_an_unusable_database_is_a_clean_503_with_a_log_line_and_no_stack_trace(demo):
    if demo.real:
        pytest.skip("the database is usable with a real server; the simulator (no data path) shows this case")
    for path in ("/", "/stats"):
        status, body = get(demo.url("lab2", path))
        assert status == 503, (path, body)
        assert isinstance(body, dict) and set(body) == {"error", "server", "status"}, body
        assert "Traceback" not in json.dumps(body)
    logs = demo.docker("service", "logs", "--raw", APP_STACK + "_web")
    assert re.search(r"ERROR GET /: 503: database not connected \(cannot connect to tasks\.apptest_aerospike:3000", logs)
    assert "Traceback" not in logs


def test_a_browser_gets_the_page_with_the_total_and_a_reload_through_haproxy_shows_another_server(demo):
    if not CHROMIUM:
        pytest.skip(NO_CHROMIUM)
    url = demo.url("lab2", "/")
    first = chromium(url, "--dump-dom")
    assert "<title>Hit counter</title>" in first
    if demo.real:
        assert re.search(r'<p class="total" id="total">[1-9][0-9]*</p>', first), first[-3000:]
        assert "Database: connected (seed tasks.apptest_aerospike:3000, namespace test)" in first
        assert '<table id="servers">' in first
    else:
        assert ("Database: NOT usable (HTTP 503): database not connected (cannot connect to "
                "tasks.apptest_aerospike:3000: ") in first
        assert "No totals while the database is not usable." in first
    # HAProxy balances round robin over 3 web tasks; other clients (the role's checks are /live, not /) can take a
    # turn between two loads, so a reload is allowed up to 3 times to land on another server.
    servers = [answering_server(first)]
    for _reload in range(3):
        servers.append(answering_server(chromium(url, "--dump-dom")))
        if servers[-1] != servers[0]:
            break
    assert servers[-1] != servers[0], "every reload was answered by %s" % servers
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    chromium(url, "--screenshot=%s" % SCREENSHOT, "--window-size=820,640", "--hide-scrollbars")
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and SCREENSHOT.stat().st_size > 10000
    print("\n[screenshot] %s (%s)" % (SCREENSHOT, demo.image))


def test_api_clients_keep_json_through_haproxy(demo):
    for accept in ("*/*", "application/json", "image/png"):
        request = urllib.request.Request(demo.url("lab3", "/"), headers={"Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                content_type = response.headers["Content-Type"]
        except urllib.error.HTTPError as error:
            content_type = error.headers["Content-Type"]
        assert content_type == "application/json", accept


def test_haproxys_statistics_list_every_web_backend_for_this_machine_only(demo):
    slots = haproxy_backends(demo, "lab4")
    assert sorted(slots, key=lambda s: int(s.split("-")[1])) == ["web-%d" % i for i in range(1, 17)]
    wait_for("HAProxy's statistics on lab4 to show 3 web backends UP", lambda: len(up_backends(demo, "lab4")) == 3,
             timeout=30)
    # From lab1 itself the client is Docker's gateway on that host, outside app_lb_stats_sources: refused.
    probe = ("import urllib.request, urllib.error\n"
             "try:\n    print(urllib.request.urlopen('http://127.0.0.1:%d/stats', timeout=5).status)\n"
             "except urllib.error.HTTPError as e:\n    print(e.code)\n" % STATS_PORT)
    assert run_ok(demo.lab, "lab1", ["python3", "-c", probe], "GET /stats from lab1").strip() == "403"


def test_two_hundred_hits_through_haproxy_are_counted_once_each_over_several_servers(demo):
    if not demo.real:
        pytest.skip(NO_DATA_PATH)
    before = stats(demo)
    answers = [get(demo.url(demo.lab.hosts[i % 5].name, "/")) for i in range(200)]
    assert [status for status, _body in answers] == [200] * 200, [a for a in answers if a[0] != 200][:3]
    after = stats(demo)
    assert after["total"] - before["total"] == 200
    deltas = dict((server, count - before["servers"].get(server, 0)) for server, count in after["servers"].items())
    assert sum(deltas.values()) == 200
    assert len([d for d in deltas.values() if d > 0]) > 1, deltas
    assert sum(after["servers"].values()) == after["total"]


def test_rerunning_the_app_playbook_changes_nothing(demo):
    done = demo.playbook("app.yml")
    assert "stack hits: unchanged" in done.stdout
    changed = dict((host, r["changed"]) for host, r in done.recap.items() if r["changed"])
    assert changed == {}, done.stdout[-3000:]


def test_scaling_the_web_tier_adds_backends_without_touching_haproxy(demo):
    lb_before = demo.task_ids(APP_STACK + "_lb")
    assert len(lb_before) == 5
    done = demo.playbook("app.yml", "-e", "app_web_replicas=5")
    assert "hits_web has 3 replicas, wanted 5" in done.stdout
    assert demo.task_ids(APP_STACK + "_lb") == lb_before, "HAProxy's tasks were replaced"

    def servers():
        answers = [get(demo.url("lab1", "/live"))[1] for _attempt in range(15)]
        return set(a.get("server") for a in answers if isinstance(a, dict))

    # The role waited for the tasks and /health; HAProxy picks new tasks up within its DNS interval (1 s).
    wait_for("HAProxy on lab1 to balance over web-1..web-5", lambda: servers() == {"web-%d" % i for i in range(1, 6)},
             timeout=30)
    wait_for("HAProxy's statistics on lab2 to show 5 web backends UP", lambda: len(up_backends(demo, "lab2")) == 5,
             timeout=30)
    if demo.real:
        before = stats(demo)
        for i in range(100):
            assert get(demo.url(demo.lab.hosts[i % 5].name, "/"))[0] == 200
        after = stats(demo)
        assert after["total"] - before["total"] == 100
        assert {"web-4", "web-5"} <= set(after["servers"]), after


def test_teardown_removes_the_app_and_then_aerospike(demo):
    demo.playbook("teardown.yml", "-e", "aerospike_teardown_confirm=%s" % AEROSPIKE_STACK)
    assert demo.docker("service", "ls", "-q").strip() == ""
    networks = demo.docker("network", "ls", "--format", "{{.Name}}").split()
    assert not [n for n in networks if n.startswith((APP_STACK + "_", AEROSPIKE_STACK + "_"))], networks
    assert get(demo.url("lab1", "/live"))[0] is None, "nothing listens on the published port any more"
