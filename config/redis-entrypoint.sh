#!/bin/sh
# compose.yaml's Redis: renders config/redis-acl.conf (mounted at /etc/contexo/redis-acl.conf) with
# the SHA-256 of each user's password from CONTEXO_REDIS_PASSWORD_<USER>, as scripts/lib/stack.sh
# does for scripts/dev and scripts/test, then hands over to the image's own entrypoint (which
# gives /data to the redis user and drops root) to run redis-server with those users and any
# arguments given. The rendered file holds hashes only, never a password.
set -eu
acl=/data/users.acl
rendered=$(grep -v -e '^#' -e '^$' /etc/contexo/redis-acl.conf)
for user in default gateway chat ingest billing; do
    name=CONTEXO_REDIS_PASSWORD_$(printf '%s' "$user" | tr '[:lower:]' '[:upper:]')
    password=$(printenv "$name" || true)
    if [ -z "$password" ]; then
        echo "redis-entrypoint: $name is not set" >&2
        exit 78
    fi
    hash=$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)
    rendered=$(printf '%s\n' "$rendered" | sed "s/{{$user}}/$hash/")
done
(umask 077 && printf '%s\n' "$rendered" >"$acl")
exec docker-entrypoint.sh redis-server --aclfile "$acl" "$@"
