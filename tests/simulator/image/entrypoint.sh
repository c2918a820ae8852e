#!/bin/sh
# The simulator image's entrypoint. A command of options is given to the simulator after the image's own
# configuration (a later --config wins), as before; any other command (asd ..., flock ... asd ...) is run as it is.
case "${1:-}" in
    "" | -*) exec python3 -m aerospike_sim --config /etc/aerospike/aerospike.conf "$@" ;;
    *) exec "$@" ;;
esac
