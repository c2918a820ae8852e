#!/bin/sh
# /usr/local/bin/asd in the simulator image: starts the simulator the way a server image starts asd, so that a
# command written for the server also starts the simulator (for example under flock, as the stack runs it with a
# data volume). --config-file is the simulator's --config; --foreground is how the simulator always runs.
for arg do
    shift
    case "$arg" in
        --foreground) ;;
        --config-file) set -- "$@" --config ;;
        --config-file=*) set -- "$@" "--config=${arg#--config-file=}" ;;
        *) set -- "$@" "$arg" ;;
    esac
done
exec python3 -m aerospike_sim "$@"
