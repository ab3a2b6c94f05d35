#!/bin/bash
# Run once by the postgres image when it creates the database (docker-entrypoint-initdb.d):
# lets the replica of docker-compose.yml stream from this server with the same password.
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
