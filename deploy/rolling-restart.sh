#!/bin/sh
# Restart the Daphne processes one at a time behind nginx, each drained
# first (docs/RELIABILITY.md, "Drain on restart"):
#
#   deploy/rolling-restart.sh 8001 8002 ...     (default: every enabled daphne@ unit)
#
# For each port: `systemctl restart daphne@PORT` sends SIGTERM; the process
# stops listening at once (nginx sends new connections to the others), sends
# its clients to them spread over REALTIME_DRAIN_SECONDS, and exits; systemd
# starts it again. The next one is restarted only once this one answers
# GET /readyz (database and channel layer) again, and SETTLE seconds more
# have passed: the last clients it sent away reconnect up to about a second
# after it exits (their own jitter), and a process restarted while they do
# would send them away a second time. Never two processes draining at once,
# so the clients of one always have somewhere to go.
#
# Environment: READY_TIMEOUT (seconds a process has to become ready again,
# default 60), SETTLE (default 5), HOST (where the processes listen, default
# 127.0.0.1).
set -eu

READY_TIMEOUT=${READY_TIMEOUT:-60}
SETTLE=${SETTLE:-5}
HOST=${HOST:-127.0.0.1}

if [ "$#" -eq 0 ]; then
    set -- $(systemctl list-units --plain --no-legend --state=active 'daphne@*.service' |
        sed -n 's/^daphne@\([0-9]*\)\.service.*/\1/p')
fi
if [ "$#" -eq 0 ]; then
    echo "no daphne@ units are active; name the ports" >&2
    exit 1
fi
if [ "$#" -eq 1 ]; then
    echo "warning: one process only: its clients wait for it to come back" >&2
fi

ready() {
    curl --silent --fail --max-time 3 "http://$HOST:$1/readyz" >/dev/null
}

for port in "$@"; do
    if ! ready "$port"; then
        echo "daphne@$port is not ready before its restart: stopping here" >&2
        exit 1
    fi
    echo "restarting daphne@$port (drains, then exits)"
    # Returns once the old process has exited (drained) and the new one started.
    systemctl restart "daphne@$port"
    waited=0
    until ready "$port"; do
        waited=$((waited + 1))
        if [ "$waited" -ge "$READY_TIMEOUT" ]; then
            echo "daphne@$port is not ready ${READY_TIMEOUT}s after its restart: stopping here" >&2
            exit 1
        fi
        sleep 1
    done
    echo "daphne@$port is ready again"
    sleep "$SETTLE"
done
