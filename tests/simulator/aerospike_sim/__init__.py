"""aerostack Aerospike simulator: the info protocol and the mesh heartbeat layer of a CE 8.1.2.0 node.

A TEST TOOL. It answers info commands the way a real Aerospike Community Edition 8.1.2.0 server does
(the shapes come from real transcripts) and forms clusters over its own mesh heartbeat, so that the
collection's discovery, tipping and verification can be tested where no real image can be pulled.
It has no data path: it stores no records and answers no reads or writes. It says what it is: the
``version`` command names the simulator, and the ``simulator`` command (unknown to a real server)
answers ``aerostack-simulator <version>``.

Run it like the server: ``python3 -m aerospike_sim --config /etc/aerospike/aerospike.conf``.
"""

__version__ = "0.2.0"

# The server release whose behaviour is imitated (what ``build`` answers).
SERVER_BUILD = "8.1.2.0"
EDITION = "Aerospike Community Edition"
