"""A fake Aerospike node for module unit tests: real 8.1.2.0 answers, with live mesh seeds.

Only the seed-related commands are stateful (tip, tip-clear, get-config:context=network, alumni);
their answers use the exact strings of the real server's transcripts. Everything else is replayed
from tests/fixtures. For cluster behaviour, tests use the simulator instead.
"""

from seed_commands import answer_seed_command
from transcripts import TranscriptServer, answers


class FakeNode(TranscriptServer):
    def __init__(self, fixture="three-nodes.txt", seeds=(), alumni=None, host="127.0.0.1", overrides=None):
        self.fixture = answers(fixture)
        self.seeds = list(seeds)
        self.services = self.fixture["services"]
        self.alumni = self.fixture["services-alumni"] if alumni is None else alumni
        self.overrides = dict(overrides or {})
        self.sent = []
        super().__init__(self, host=host)

    # TranscriptServer asks self.table.get(command)
    def get(self, command):
        self.sent.append(command)
        if command in self.overrides:
            return self.overrides[command]
        seed_answer = answer_seed_command(self.seeds, command)
        if seed_answer is not None:
            return seed_answer
        if command == "get-config:context=network":
            base = [kv for kv in self.fixture[command].split(";") if not kv.startswith("heartbeat.mesh-seed-address-port=")]
            at = next(i for i, kv in enumerate(base) if kv.startswith("heartbeat.tls-name="))
            seeds = ["heartbeat.mesh-seed-address-port=%s" % s for s in self.seeds]
            return ";".join(base[: at + 1] + seeds + base[at + 1:])
        if command == "services-alumni":
            return self.alumni
        if command == "services":
            return self.services
        if command == "services-alumni-reset":
            self.alumni = self.services
            return "ok"
        return self.fixture.get(command)
