#!/bin/bash
# The read replica of docker-compose.yml: on first start, a base backup of the primary (`db`)
# set up to stream from it (pg_basebackup -R), then a hot standby. As the cluster test does.
set -euo pipefail
data=/var/lib/postgresql/data
if [ ! -s "$data/PG_VERSION" ]; then
    until pg_basebackup -h db -U "$POSTGRES_USER" -D "$data" -R -X stream; do
        echo "replica: the primary is not ready yet; again in 2 s" >&2
        rm -rf "${data:?}"/*
        sleep 2
    done
    chmod 0700 "$data"
fi
exec postgres -c hot_standby=on
