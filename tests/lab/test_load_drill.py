"""The load drill (issue 11): the database and the app under continuous writes through every operation, counting
what is lost.

    scripts/drill load                                        # docs/drills.md, "The load drill"
    AEROSPIKE_IMAGE=... python -m pytest -p no:cacheprovider -m drill -s tests/lab/test_load_drill.py

On a verified 3-node cluster (site.yml on the lab ``aerostack-loaddrill``, the namespace on a file, the hit-counter
app behind HAProxy), a bounded load generator (tools/loadgen/loadgen.py, a one-off swarm service on the stack's
overlay network, in the app's image) writes new records at a fixed rate while the drill runs, one after the other and
each verified before the next: scale 3 -> 5, kill an Aerospike task, kill a whole lab host and start it again, scale
5 -> 3, a rolling configuration change, an image upgrade (the same server re-tagged), a host cut off the network and
healed, and last a full outage (every instance killed at once; only when the service keeps each instance on its own
host with its data, i.e. a ``global`` service). After each phase the generator reads back every key it got
acknowledged. At the same time this machine sends GETs through HAProxy at a fixed rate and counts the answers; the
app's totals must grow by exactly the number of 200 answers.

The drill fails where the collection's handling loses acknowledged writes: any LOST key after the scale, kill,
restart, config and upgrade phases, or, after the full outage, a lost key acknowledged longer before the kill than
the server's write buffers hold it (``flush-max-ms``); the app's totals not exact at a checkpoint before the partition.
A partition in AP mode may lose writes by design, the app's counter increments too; the drill reports what it
measured there and does not fail on it. Failures of requests are counted and reported, not judged.

Only a real server has a data path: with the simulator image the drill is skipped. Rates: AEROSTACK_LOAD_RATE
(writes/s, default 500), AEROSTACK_LOAD_HTTP_RATE (GETs/s, default 20). Results (JSON, the journal and a plot) go to
``.cache/loaddrill/``. AEROSTACK_DRILL_KEEP=1 leaves the lab up (and reuses one kept earlier); without it, a
lab of the same name left by an earlier run is removed first.
"""

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from aerospike_lab import DISCOVERY_IMAGE, Cluster
from labtest_helpers import REPO, drill_lab_up, run_ok, wait_for
from simulator_image import REPOSITORY as SIMULATOR_REPOSITORY

from aerostack_lab import Lab
from aerostack_lab.engine import Engine
from aerostack_lab.images import ImageBuilder
from aerostack_lab.progress import Progress
from aerostack_lab.recipes import recipes, selection

pytestmark = [pytest.mark.lab, pytest.mark.drill, pytest.mark.real_server]

LOADGEN_DIR = REPO / "tools" / "loadgen"
if str(LOADGEN_DIR) not in sys.path:
    sys.path.insert(0, str(LOADGEN_DIR))
import loadreport  # noqa: E402  pylint: disable=wrong-import-position

LAB = "aerostack-loaddrill"
STACK = "loaddrill"
APP_STACK = "loadapp"
NAMESPACE = "test"
APP_PORT = 8080
LOADGEN = "loaddrill-loadgen"
#: Where the generator's work directory lives on its host (bind-mounted into its task at /loadgen).
WORKROOT = "/var/lib/aerostack-loaddrill"
#: The generator's host, and the hosts whose HAProxy the GETs go through: the drill never kills or cuts them.
LOADGEN_HOST = "lab1"
HTTP_HOSTS = ("lab1", "lab2")
RATE = float(os.environ.get("AEROSTACK_LOAD_RATE") or 500)
HTTP_RATE = float(os.environ.get("AEROSTACK_LOAD_HTTP_RATE") or 20)
#: The generator's client (AEROSTACK_LOAD_CLIENT). ``default``: the Aerospike client's own 2 s with 2 retries 250 ms
#: apart; a node that leaves fails the writes to its partitions until the client's map changes, many of them fast
#: through the client's circuit breaker (after 100 errors to a node within a tend interval).
#: ``failover``: a write's tries are meant to span a node's failover (the heartbeat timeout, the new cluster, the
#: client's next partition map: a few seconds), so that it waits instead of failing; a write the client failed
#: without sending it (its circuit breaker, or no node yet for the key's partition while a node joins or leaves) is
#: tried again after the pause within the same 10 s, as Aerospike asks applications to back off. What
#: made it work on a real server is the generator's 1 s connect timeout (see loadgen.Settings.client_config).
CLIENTS = {
    "failover": ["--timeout-ms", "10000", "--socket-timeout-ms", "1000", "--retries", "15", "--retry-pause-ms", "500",
                 "--retry-unsent", "--workers", "384"],
    "default": ["--timeout-ms", "2000", "--socket-timeout-ms", "500", "--retries", "2", "--retry-pause-ms", "250",
                "--workers", "64"],
}  # fmt: skip
CLIENT = os.environ.get("AEROSTACK_LOAD_CLIENT") or "failover"
#: The generator's own bound: it stops by itself after this long even if the drill never tells it to.
LOAD_BOUND = 7200
#: How long a phase may take to be verified again. With data, "verified" includes the migrations that bring a
#: returning or new node up to date: under 500 writes/s on the loaded 2-core lab machine they took 2-6 minutes with
#: 100 000-450 000 records per node (an empty cluster needs seconds).
HEAL_TIMEOUT = 900
DOWN_TIMEOUT = 900
#: The partition is held until the generator has this many seconds of writes acknowledged by the majority.
PARTITION_WRITES_SECONDS = 5
#: The server buffers a device namespace's writes for up to flush-max-ms (default 1000 ms) before they reach the
#: file: a full outage may lose what was acknowledged that recently before the kill, and nothing older.
FLUSH_MAX = 1.0
#: The role verifies the cluster after each step of a roll for at most aerospike_verify_timeout (default 180 s).
#: Migrations under load with hundreds of thousands of records take longer than that here (the first run stopped the
#: config roll after its first task with 491 partitions still migrating, safely); the drill gives them 15 minutes.
VERIFY_TIMEOUT = 900
NAMESPACES = [{"name": NAMESPACE, "replication_factor": 2, "storage": {"type": "file", "filesize": "1G"},
               "options": {"nsup-period": 120}}]  # fmt: skip


def say(text):
    print("[load] %s" % text, flush=True)


# --- the load generator: a one-off swarm service on the stack's overlay network -----------------------------------


class LoadGenerator:
    """tools/loadgen/loadgen.py as a one-off service (restart condition none) on ``host``, on the Aerospike stack's
    network, in the hit counter's image (it has the Aerospike client). Its work directory is a bind mount of
    ``WORKROOT/<run>`` on ``host``: the drill drops control files there and reads the journal back."""

    def __init__(self, cluster, app_image, run, host=LOADGEN_HOST):
        self.cluster = cluster
        self.app_image = app_image
        self.run = run
        self.host = host
        self.workdir = "%s/%s" % (WORKROOT, run)

    def sh(self, script, input=None):
        return run_ok(self.cluster.lab, self.host, ["sh", "-c", script], "sh -c %s" % script[:60], input=input)

    def read(self, name):
        """The text of a file of the work directory, or None while it does not exist."""
        rc, out, _err = self.cluster.lab.exec(self.host, ["cat", "%s/%s" % (self.workdir, name)])
        return out if rc == 0 else None

    def status(self):
        text = self.read("status.json")
        return json.loads(text) if text else None

    def task_state(self):
        out = self.cluster.docker(self.cluster.manager, "service", "ps", "--no-trunc", "--format",
                                  "{{.CurrentState}}|{{.Error}}", LOADGEN)  # fmt: skip
        return out.strip().splitlines()[0] if out.strip() else ""

    def logs(self):
        """The generator's output, stdout and stderr (``docker service logs`` passes the task's stderr on its own)."""
        _rc, out, err = self.cluster.lab.exec(self.cluster.manager, ["docker", "service", "logs", "--raw", LOADGEN])
        return out + err

    def start(self, rate, duration):
        self.sh("mkdir -p %s && chmod 0777 %s && cat > %s/loadgen.py" % (self.workdir, self.workdir, self.workdir),
                input=(LOADGEN_DIR / "loadgen.py").read_text())  # fmt: skip
        self.cluster.docker(
            self.cluster.manager, "service", "create", "--detach", "--name", LOADGEN,
            "--network", self.cluster.stack + "_aerospike", "--restart-condition", "none",
            "--constraint", "node.hostname==%s" % self.host, "--no-resolve-image",
            "--mount", "type=bind,source=%s,target=/loadgen" % self.workdir,
            self.app_image, "/opt/hitcounter/venv/bin/python3", "/loadgen/loadgen.py",
            "--seed", "tasks.%s" % self.cluster.service, "--namespace", NAMESPACE, "--set", "loaddrill",
            "--run", self.run, "--rate", "%g" % rate, "--duration", "%d" % duration, "--workdir", "/loadgen",
            *CLIENTS[CLIENT],
        )  # fmt: skip

        def writing():
            status = self.status()
            if status and status["acked"] > 0:
                return status
            state = self.task_state()
            if state.startswith(("Failed", "Rejected", "Complete")):
                raise AssertionError("the load generator ended before writing: %s\n%s" % (state, self.logs()))
            return None

        return wait_for("the load generator to have writes acknowledged", writing, timeout=120)

    def acked(self):
        """How many writes were acknowledged so far (status.json, written every second)."""
        return (self.status() or {}).get("acked", 0)

    def readback(self, name):
        """Ask for a read-back of every key acknowledged so far and wait for its result."""
        self.sh("touch %s/control/%s" % (self.workdir, name))
        acked = (self.status() or {}).get("acked", 0)

        def answered():
            text = self.read(name + ".json")
            if text is None and self.read("result.json") is not None:
                raise AssertionError("the load generator ended (%s) before the read-back %s" % (
                    json.loads(self.read("result.json"))["reason"], name))
            return text

        # Read-backs ran at 10 000-35 000 keys/s on the loaded lab machine.
        text = wait_for("the read-back %s of %d keys" % (name, acked), answered, timeout=max(180, acked / 1000.0),
                        interval=1.0)  # fmt: skip
        return json.loads(text)

    def stop(self):
        """Tell it to stop and to read back every acknowledged key once the last write ended; wait for its result.
        Returns (result, the final read-back, writes.csv text)."""
        acked = self.acked()
        self.sh("echo readback > %s/control/stop" % self.workdir)
        text = wait_for("the load generator's final read-back of %d keys and result.json" % acked,
                        lambda: self.read("result.json"), timeout=max(180, acked / 500.0), interval=1.0)
        return json.loads(text), json.loads(self.read("readback-final.json")), self.read("writes.csv")

    def remove(self):
        self.cluster.lab.exec(self.cluster.manager, ["docker", "service", "rm", LOADGEN])


# --- GETs through HAProxy at a fixed rate, from this machine -------------------------------------------------------


def http_get(url, timeout=15):
    """(status, JSON body or text); (None, reason) when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return None, "timeout" if "timed out" in str(reason) else str(reason)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


class HttpLoad:
    """GET / at ``rate`` per second, one at a time, alternating over ``urls``, while the ``with`` block runs:
    ``gets`` are loadreport.Get tuples. ``checkpoint()`` reads /stats between two GETs (none is in flight then), so
    the totals it returns count every GET answered before it."""

    def __init__(self, urls, stats_url, rate):
        self.urls = urls
        self.stats_url = stats_url
        self.rate = rate
        self.gets = []
        self._stop = threading.Event()
        self._asked = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        started, number = time.time(), 0
        while not self._stop.is_set():
            with self._lock:
                asked = list(self._asked)
            for reply in asked:
                # Right after a full outage the app may answer 503 until its client finds the nodes again: the
                # checkpoint is tried again between the next GETs until /stats answers 200 or its deadline passes.
                reply["stats"] = http_get(self.stats_url)
                if reply["stats"][0] == 200 or time.monotonic() > reply["deadline"]:
                    reply["gets"] = len(self.gets)
                    with self._lock:
                        self._asked.remove(reply)
                    reply["done"].set()
            due = started + number / self.rate
            if due > time.time():
                self._stop.wait(due - time.time())
                continue
            if due < time.time() - 1.0:  # more than a second behind (slow answers): do not send a burst
                started, number = time.time(), 0
            sent = time.time()
            status, body = http_get(self.urls[number % len(self.urls)])
            server, instance = (body.get("server"), body.get("instance")) if isinstance(body, dict) else (None, None)
            self.gets.append(loadreport.Get(sent, time.time(), loadreport.http_outcome(status, body), server, instance))
            number += 1

    def checkpoint(self, timeout=60):
        """``(/stats body, how many GETs were answered before it)``; /stats must answer 200 within ``timeout``."""
        reply = {"done": threading.Event(), "deadline": time.monotonic() + timeout}
        with self._lock:
            self._asked.append(reply)
        assert reply["done"].wait(timeout + 30), "the GET loop did not take a checkpoint within %d s" % timeout
        status, body = reply["stats"]
        assert status == 200, "GET /stats did not answer 200 within %d s; last answer %s: %s" % (timeout, status, body)
        return body, reply["gets"]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(60)


# --- observing the cluster -----------------------------------------------------------------------------------------


def stable(views, size):
    """``size`` nodes (Cluster.node_views) that all agree on one stable cluster of that size."""
    return (
        len(views) == size
        and all(v["size"] == size and v["integrity"] and v["migrations"] == 0 for v in views)
        and len(set(v["key"] for v in views)) == 1
    )


def wait_stable(cluster, size, hosts=None, timeout=HEAL_TIMEOUT, without=()):
    """Wait until the Aerospike nodes on ``hosts`` (default: every live host) form one stable cluster of ``size``,
    none of them a container of ``without`` (killed ones); returns the views."""

    seen = []

    def check():
        views = cluster.node_views(hosts)
        seen[:] = views
        return views if stable(views, size) and not set(v["container"] for v in views) & set(without) else None

    what = "one stable cluster of %d%s" % (size, " on %s" % ", ".join(hosts) if hosts else "")
    try:
        return wait_for(what, check, timeout=timeout, interval=0.5)
    except AssertionError:
        # Say what each node saw last: split sub-clusters (keys), a node that does not answer, migrations left.
        raise AssertionError("waited %d s for %s; each node's last view: %s" % (timeout, what, "; ".join(
            "%s: size %s, key %s, integrity %s, migrations %s%s" % (
                v["host"], v["size"], v["key"], v["integrity"], v["migrations"],
                " (%s)" % v["error"] if v.get("error") else "") for v in seen) or "no node answered")) from None


def managers(cluster):
    out = cluster.docker(cluster.manager, "node", "ls", "--format", "{{.Hostname}}|{{.ManagerStatus}}")
    return sorted(line.split("|")[0] for line in out.splitlines() if line.split("|")[1])


def task_hosts(cluster):
    """``{host: [container]}`` of the running Aerospike tasks."""
    found = {}
    for host, container in cluster.containers(cluster.service):
        found.setdefault(host, []).append(container)
    return found


def service_mode(cluster):
    return cluster.docker(cluster.manager, "service", "inspect", "--format", "{{json .Spec.Mode}}", cluster.service)


# --- the drill -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drilled(tmp_path_factory):
    """The lab aerostack-loaddrill with a 3-manager swarm, a verified cluster of 3 with its namespace on a file, and the
    hit counter behind HAProxy (site.yml); taken down at the end."""
    image = os.environ.get("AEROSPIKE_IMAGE")
    if not image or image.startswith(SIMULATOR_REPOSITORY + ":"):
        pytest.skip("the load drill needs a real server image (AEROSPIKE_IMAGE): the simulator has no data path")
    if CLIENT not in CLIENTS:
        pytest.fail("AEROSTACK_LOAD_CLIENT=%s is not a client policy of the drill: use %s" % (CLIENT, " or ".join(CLIENTS)))
    builder = ImageBuilder(Engine(), REPO / ".cache" / "lab", Progress(quiet=True))
    states = builder.status("app")
    if "missing" in states.values():
        builder.ensure("app")
    for name, state in sorted(states.items()):
        if state == "stale":
            # scripts/lab images rebuilds it; the drill measures the collection's handling, not the app's newest code.
            say("note: %s is older than its recipe (scripts/lab images --flavour app rebuilds it); using it" % name)
    app_image, lb_image = (recipes()[short].image for short in ("hitcounter", "haproxy"))
    lab = Lab(name=LAB, hosts=5, progress=Progress(quiet=not os.environ.get("LAB_VERBOSE")))
    started = time.monotonic()
    try:
        drill_lab_up(lab, say)
        lab.load([image, DISCOVERY_IMAGE] + [recipes()[short].image for short in selection("app")])
        say("lab up and images loaded: %.1f s" % (time.monotonic() - started))
        cluster = Cluster(lab, image, tmp_path_factory.mktemp("loaddrill"), STACK, settings={
            "swarm_managers_max": 3, "aerospike_replicas": 3, "aerospike_namespaces": NAMESPACES,
            "aerospike_verify_timeout": VERIFY_TIMEOUT,
            "aerostack_app_enabled": True, "app_image": app_image, "app_lb_image": lb_image,
            "app_stack_name": APP_STACK, "app_verify_database": True})  # fmt: skip
        done = cluster.playbook("site.yml")
        say("site.yml: docker hosts -> 3 managers + 2 workers, verified cluster of 3, the app: %.1f s" % done.seconds)
        cluster.app_image = app_image
        yield cluster
    finally:
        if not os.environ.get("AEROSTACK_DRILL_KEEP"):
            lab.down()


class Drill:
    """The phases, one after the other: each acts, waits until the cluster is verified again, then has the generator
    read back every acknowledged key and reads the app's totals."""

    def __init__(self, cluster, generator, http):
        self.cluster = cluster
        self.generator = generator
        self.http = http
        self.phases = []
        self.readbacks = []
        self.checkpoints = []
        self.size = 3

    def phase(self, name, action, act):
        """Run ``act()`` (it returns once the cluster is verified again, optionally with notes), then read back."""
        say("%s: %s" % (name, action))
        started = time.time()
        notes = act() or {}
        verified = time.time()
        say("%s: verified again after %.1f s" % (name, verified - started))
        readback = self.generator.readback("readback-%d-%s" % (len(self.phases) + 1, name))
        self.readbacks.append(readback)
        stats, gets = self.http.checkpoint()
        self.checkpoints.append({"phase": name, "stats": stats, "gets": gets})
        status = self.generator.status()
        say("%s: read back %d acknowledged keys: %d missing, %d with another value, %d unreadable (%.1f s); so far "
            "%d writes sent, %d acknowledged, failed %s" % (
                name, readback["checked"], len(readback["missing"]), len(readback["mismatched"]),
                len(readback["unreadable"]), readback["finished"] - readback["started"], status["sent"],
                status["acked"], status["failed"]))  # fmt: skip
        self.phases.append(dict(notes, name=name, action=action, started=started, verified=verified,
                                readback=readback["name"]))  # fmt: skip

    # --- the phases ---

    def scale(self, target):
        done = self.cluster.playbook("scale.yml", "-e", "aerospike_replicas=%d" % target)
        assert "cluster: STABLE, %d node(s)" % target in done.stdout, done.stdout[-3000:]
        self.cluster.update_settings(aerospike_replicas=target)
        self.size = target
        wait_stable(self.cluster, target)
        return {"playbook_seconds": round(done.seconds, 1)}

    def kill_task(self):
        tasks = task_hosts(self.cluster)
        host = sorted(h for h in tasks if h != LOADGEN_HOST)[-1]
        container = tasks[host][0]
        self.cluster.docker(host, "kill", container)
        say("kill-task: killed the Aerospike container %s on %s" % (container[:12], host))
        wait_stable(self.cluster, self.size, without=[container])
        return {"host": host}

    def kill_host(self):
        tasks = task_hosts(self.cluster)
        spared = set(HTTP_HOSTS) | {LOADGEN_HOST, self.cluster.manager}
        candidates = [h for h in sorted(tasks) if h not in spared]
        workers = [h for h in candidates if h not in managers(self.cluster)]
        host = (workers or candidates)[-1]
        alive = [h for h in self.cluster.live_hosts() if h != host]
        self.cluster.lab.kill(host)
        killed = time.time()
        say("kill-host: killed lab host %s (SIGKILL of the whole host)" % host)
        wait_stable(self.cluster, self.size - 1, hosts=alive)
        shrunk = time.time() - killed
        say("kill-host: the other %d nodes stable at %d after %.1f s; starting %s" % (
            self.size - 1, self.size - 1, shrunk, host))
        self.cluster.lab.start(host)
        wait_stable(self.cluster, self.size, timeout=DOWN_TIMEOUT)
        return {"host": host, "shrunk_after": round(shrunk, 1)}

    def roll(self, extra, **settings):
        done = self.cluster.playbook("upgrade.yml", "-e", json.dumps(extra))
        assert "cluster: STABLE, %d node(s)" % self.size in done.stdout, done.stdout[-3000:]
        self.cluster.update_settings(**settings)
        wait_stable(self.cluster, self.size)
        return {"playbook_seconds": round(done.seconds, 1)}

    def config_change(self):
        namespaces = json.loads(json.dumps(self.cluster.settings["aerospike_namespaces"]))
        namespaces[0]["options"]["nsup-period"] = 60
        return self.roll({"aerospike_namespaces": namespaces}, aerospike_namespaces=namespaces)

    def upgrade(self):
        image = self.cluster.settings["aerospike_image"]
        retagged = "%s-loaddrill" % image
        for host in self.cluster.live_hosts():
            self.cluster.docker(host, "tag", image, retagged)
        say("upgrade: %s re-tagged %s on every host" % (image, retagged))
        notes = self.roll({"aerospike_image": retagged}, aerospike_image=retagged)
        return dict(notes, image=retagged)

    def partition(self):
        tasks = task_hosts(self.cluster)
        spared = set(HTTP_HOSTS) | {LOADGEN_HOST, self.cluster.manager}
        candidates = [h for h in sorted(tasks) if h not in spared]
        workers = [h for h in candidates if h not in managers(self.cluster)]
        host = (workers or candidates)[0]
        others = [h for h in tasks if h != host]
        self.cluster.lab.disconnect(host)
        cut = time.time()
        try:
            wait_stable(self.cluster, len(others), hosts=others)
            shrunk = time.time() - cut
            say("partition: %s cut off; the other %d nodes stable at %d after %.1f s" % (
                host, len(others), len(others), shrunk))
            wanted, before = int(RATE * PARTITION_WRITES_SECONDS), self.generator.acked()
            wait_for("%d more writes acknowledged during the partition" % wanted,
                     lambda: self.generator.acked() >= before + wanted, timeout=HEAL_TIMEOUT, interval=1.0)
        finally:
            self.cluster.lab.connect(host)
        healed = time.time()
        say("partition: %s reconnected after %.1f s" % (host, healed - cut))
        wait_stable(self.cluster, self.size)
        return {"host": host, "shrunk_after": round(shrunk, 1), "held": round(healed - cut, 1),
                "healed_after": round(time.time() - healed, 1)}  # fmt: skip

    def outage(self):
        tasks = self.cluster.containers(self.cluster.service)
        started = time.time()
        with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
            list(pool.map(lambda entry: self.cluster.docker(entry[0], "kill", entry[1]), tasks))
        ended = time.time()
        say("outage: killed all %d Aerospike containers at once (%.2f s from the first kill command to the last "
            "answer)" % (len(tasks), ended - started))
        wait_stable(self.cluster, self.size, timeout=DOWN_TIMEOUT, without=[c for _h, c in tasks])
        return {"kill_started": started, "kill_ended": ended}


def app_totals(drill):
    """The app's totals between checkpoints: exact when they grew by the 200 answers of each server in between."""
    totals = []
    for before, after in zip(drill.checkpoints, drill.checkpoints[1:]):
        ok = {}
        for get in drill.http.gets[before["gets"]:after["gets"]]:
            if get.outcome == "200":
                ok[get.server] = ok.get(get.server, 0) + 1
        totals.append({"phase": after["phase"], "ok": sum(ok.values()),
                       "problems": loadreport.totals_check(before["stats"], after["stats"], ok)})  # fmt: skip
    return totals


def partial(out, generator, drill, load_started):
    """When the drill breaks off: keep the journal and print the table of the phases that were completed."""
    journal = generator.read("writes.csv")
    if not journal or drill is None or load_started is None:
        return
    (out / "writes.csv").write_text(journal)
    writes = loadreport.parse_writes(journal)
    ended = max(w.sent for w in writes) + 0.001 if writes else time.time()
    phases = [p for p in drill.phases if p["started"] < ended]
    rows = loadreport.phase_rows(writes, phases, drill.readbacks, load_started, ended)
    (out / "gets.csv").write_text(loadreport.gets_csv(drill.http.gets))
    (out / "partial.json").write_text(json.dumps({"phases": drill.phases, "rows": rows, "totals": app_totals(drill),
                                                  "checkpoints": drill.checkpoints}, default=str, indent=1))
    print("\nthe drill broke off; the phases completed until then (journal in %s):" % out)
    for line in loadreport.format_rows(rows):
        print(line)


def test_load_through_every_operation_loses_no_acknowledged_write(drilled):
    cluster = drilled
    run = "r%d" % time.time()
    generator = LoadGenerator(cluster, cluster.app_image, run)
    out = REPO / ".cache" / "loaddrill" / run
    out.mkdir(parents=True, exist_ok=True)
    urls = ["http://%s:%d/" % (cluster.lab.host(h).address, APP_PORT) for h in HTTP_HOSTS]
    stats_url = "http://%s:%d/stats" % (cluster.lab.host(HTTP_HOSTS[0]).address, APP_PORT)
    global_mode = "Global" in service_mode(cluster)
    say("server %s; the Aerospike service is %s" % (cluster.image, "global" if global_mode else "replicated"))
    try:
        status = generator.start(RATE, LOAD_BOUND)
        load_started = status["started"]
        say("load generator %s on %s: %g writes/s for at most %d s (run %s), client %s: %s"
            % (LOADGEN, LOADGEN_HOST, RATE, LOAD_BOUND, run, CLIENT, " ".join(CLIENTS[CLIENT])))
        with HttpLoad(urls, stats_url, HTTP_RATE) as http:
            drill = Drill(cluster, generator, http)
            baseline = http.checkpoint()
            drill.checkpoints.append({"phase": "start", "stats": baseline[0], "gets": baseline[1]})
            wait_for("10 s of steady load", lambda: generator.acked() >= RATE * 10, timeout=120, interval=1.0)
            drill.phase("scale-up", "scale.yml -e aerospike_replicas=5", lambda: drill.scale(5))
            drill.phase("kill-task", "docker kill of one Aerospike container", drill.kill_task)
            drill.phase("kill-host", "scripts/lab kill of a host with an Aerospike task, then start", drill.kill_host)
            drill.phase("scale-down", "scale.yml -e aerospike_replicas=3", lambda: drill.scale(3))
            drill.phase("config", "upgrade.yml with nsup-period 120 -> 60 (aerospike.conf)", drill.config_change)
            drill.phase("upgrade", "upgrade.yml with the same server re-tagged", drill.upgrade)
            drill.phase("partition", "lab disconnect of a host with an Aerospike task, then connect", drill.partition)
            skipped = None
            if global_mode:
                drill.phase("outage", "docker kill of every Aerospike container at once", drill.outage)
            else:
                skipped = ("full outage not run: the Aerospike service is replicated, so swarm may restart a task slot "
                           "on another host with an empty volume; the outage phase needs each instance kept on its "
                           "own host with its data (a global service)")
                say(skipped)
            stopping = time.time()
            result, final, journal = generator.stop()
            drill.readbacks.append(final)
            drill.phases.append({"name": "end", "action": "the load stopped; every acknowledged key read back",
                                 "started": stopping, "verified": None, "readback": final["name"]})  # fmt: skip
            stats, gets = http.checkpoint()
            drill.checkpoints.append({"phase": "end", "stats": stats, "gets": gets})
            load_ended = time.time()
    except BaseException:
        try:
            print("load generator's log:\n" + generator.logs()[-4000:])
            partial(out, generator, locals().get("drill"), locals().get("load_started"))
        except (AssertionError, OSError, ValueError) as error:
            print("no log or journal of the load generator: %s" % error)
        raise
    finally:
        generator.remove()
    (out / "writes.csv").write_text(journal)
    writes = loadreport.parse_writes(journal)
    rows = loadreport.phase_rows(writes, drill.phases, drill.readbacks, load_started, load_ended, result["skips"])
    http_rows = loadreport.http_rows(http.gets, drill.phases, load_started, load_ended)

    totals = app_totals(drill)

    outage = next((p for p in drill.phases if p["name"] == "outage"), None)
    outage_row = next((r for r in rows if r["name"] == "outage"), None)
    outage_loss = loadreport.recent(outage_row["lost"], outage["kill_started"],
                                    [w.done for w in writes if w.outcome == "ok"]) if outage else None  # fmt: skip
    sent = sum(r["sent"] for r in rows)
    failed = sum(sum(r["failed"].values()) for r in rows)
    report = {"image": cluster.image, "run": run, "rate": RATE, "http_rate": HTTP_RATE, "generator": result,
              "phases": drill.phases, "rows": rows, "http": http_rows, "totals": totals, "outage": outage_loss,
              "skipped": skipped, "final_stats": drill.checkpoints[-1]["stats"]}  # fmt: skip
    (out / "gets.csv").write_text(loadreport.gets_csv(http.gets))
    (out / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True, default=str))
    title = "load drill: %g writes/s, %g GETs/s, %s" % (RATE, HTTP_RATE, cluster.image)
    loadreport.plot(loadreport.timeline(writes, http.gets, load_started, load_ended), rows, str(out / "load-drill.png"),
                    title)  # fmt: skip

    print("\nload drill (%s, server %s, run %s): results in %s" % (LAB, cluster.image, run, out))
    for line in loadreport.format_rows(rows, http_rows):
        print(line)
    print("generator: %d sent, %d acknowledged, %d slots skipped; achieved %.1f writes/s of %g; failed %s; %d tries "
          "again after the circuit breaker" % (result["sent"], result["acked"], result["skipped"],
                                               result["achieved_rate"], RATE, result["failed"],
                                               result.get("backoffs", 0)))  # fmt: skip
    print("failed writes: %d of %d sent (%.3f%%)" % (failed, sent, 100.0 * failed / max(1, sent)))
    gets_ok = sum(h["ok"] for h in http_rows)
    gets_sent = sum(h["sent"] for h in http_rows)
    print("GETs: %d sent, %d answered 200 (%.3f%% errors)"
          % (gets_sent, gets_ok, 100.0 * (gets_sent - gets_ok) / max(1, gets_sent)))
    for entry in totals:
        print("app totals after %-10s %d GETs answered 200: %s"
              % (entry["phase"], entry["ok"], "; ".join(entry["problems"]) or "exact"))
    if outage_loss is not None:
        print("full outage: %s" % loadreport.describe_recent(outage_loss))
    if skipped:
        print(skipped)

    # --- the promises -------------------------------------------------------------------------------------------
    assert result["reason"] == "stop file", "the load generator stopped by itself (%s) before the drill ended" % (
        result["reason"])
    for row in rows:
        assert row["name"] == "end" or row["acked"] > 0, "no write was acknowledged during %s" % row["name"]
        if row["name"] in ("steady", "partition", "outage") or row["checked"] is None:
            continue
        assert not row["lost"], "%s lost %d acknowledged writes (seq, acknowledged at): %s" % (
            row["name"], len(row["lost"]), row["lost"][:20])
        assert not row["unreadable"], "%s: %d acknowledged keys could not be read back" % (
            row["name"], row["unreadable"])
    if outage is not None:
        older = [entry for entry in outage_row["lost"] if entry[1] < outage["kill_started"] - FLUSH_MAX]
        assert not older, "the full outage lost %d writes acknowledged more than flush-max-ms (%.1f s) before the " \
            "kill: %s" % (len(older), FLUSH_MAX, older[:20])
    # The partition and the outage may lose acknowledged increments (AP mode, the write buffer): reported above.
    judged = [t for t in totals if t["phase"] not in ("partition", "outage")]
    assert not [t for t in judged if t["problems"]], "the app's totals are not exact: %s" % [
        (t["phase"], t["problems"]) for t in judged if t["problems"]]
    final = drill.checkpoints[-1]["stats"]
    assert sum(final["servers"].values()) == final["total"], final
