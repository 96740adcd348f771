# shellcheck shell=bash
# scripts/lib/tenant-bench.sh: `scripts/bench tenant`, sourced by scripts/bench (uses its
# bench_stack and WORK).
#
# What a verified tenant costs (S1.1): the same queries on the same rows, run with pgbench one
# client at a time, in rounds that alternate the order:
#   floor    the superuser (RLS does not bind it) with the tenant in an explicit WHERE: no policy
#            and no ticket, the least a tenant query can cost
#   ticket   Chat's role: BEGIN, contexo_tickets.enter(<gateway-signed ticket>), the query under
#            row-level security (current_tenant() checks its proof once per statement), COMMIT
# for a point lookup (one transaction, one statement), ten point lookups in one transaction (what
# the per-statement check costs), and a count over the tenant's 10,000 rows (the policy must not
# cost per row). Then, inside the database (no client round trips, so little noise): the cost of
# one current_tenant() call, one enter(), and one point lookup each way, from loops of thousands.

TENANT_BENCH_SECONDS=${BENCH_SECONDS:-5}
TENANT_BENCH_ROUNDS=${BENCH_ROUNDS:-3}

# tenant_bench_ticket KEYS TENANT: a request ticket for TENANT signed with the first of KEYS, as
# the gateway mints it.
tenant_bench_ticket() {
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, sys, time
keys, tenant = sys.argv[1:3]
key_id, secret = keys.split(",")[0].split(":", 1)
secret = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
body = f"t1.{key_id}.{tenant}.{int(time.time()) + 3600}.r"
print(body + "." + hmac.new(secret, body.encode(), hashlib.sha256).hexdigest())
PY
}

# tenant_bench_run ROLE PASSWORD SCRIPT: pgbench's average latency (ms) and tps of SCRIPT.
tenant_bench_run() {
    local out
    out=$(PGPASSWORD=$2 "$PG_BIN/pgbench" -n -M prepared -c 1 -T "$TENANT_BENCH_SECONDS" -f "$3" \
        -h 127.0.0.1 -p "$pg_port" -U "$1" contexo_bench 2>&1) || stack_die "pgbench failed: $out"
    printf '%s %s\n' "$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' <<<"$out")" \
        "$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")"
}

bench_tenant() {
    # shellcheck disable=SC2034 # bench_stack fills these in for its caller
    local pg_password role_password pg_port redis_port config bin
    # Only Postgres is measured: a debug contexo-migrate sets the database up as well as a release one.
    CONTEXO_BENCH_BUILD=${CONTEXO_BENCH_BUILD:-debug} bench_stack contexo-migrate
    STACK_PG_PORT=$pg_port STACK_PG_PASSWORD=$pg_password stack_pg_create_database contexo_bench
    STACK_PG_PORT=$pg_port STACK_PG_PASSWORD=$pg_password stack_migrate "$bin" "$pg_port" contexo_bench "$pg_password" "$role_password" >/dev/null
    local tenant widget probe
    tenant=$(python3 -c 'import uuid; print(uuid.uuid4())')
    widget=$(python3 -c 'import uuid; print(uuid.uuid4())')
    # The measured tenant has 10,000 sessions; 19 others have 1,000 each beside them.
    STACK_PG_PORT=$pg_port STACK_PG_PASSWORD=$pg_password stack_psql -d contexo_bench -q <<SQL >/dev/null
INSERT INTO chat.widgets (id, owner_id, name) VALUES ('$widget', '$tenant', 'bench');
INSERT INTO chat.visitor_sessions (id, owner_id, widget_id, ip_hash, expires_at)
  SELECT gen_random_uuid(), '$tenant', '$widget', repeat('a', 64), now() + interval '1 day' FROM generate_series(1, 10000);
WITH others AS (
  INSERT INTO chat.widgets (owner_id, name) SELECT gen_random_uuid(), 'other' FROM generate_series(1, 19) RETURNING id, owner_id)
INSERT INTO chat.visitor_sessions (id, owner_id, widget_id, ip_hash, expires_at)
  SELECT gen_random_uuid(), o.owner_id, o.id, repeat('b', 64), now() + interval '1 day' FROM others o, generate_series(1, 1000);
ANALYZE chat.visitor_sessions;
SQL
    probe=$(STACK_PG_PORT=$pg_port STACK_PG_PASSWORD=$pg_password stack_psql -d contexo_bench -qtA \
        -c "SELECT id FROM chat.visitor_sessions WHERE owner_id = '$tenant' LIMIT 1")
    local ticket point="SELECT expires_at FROM chat.visitor_sessions WHERE id = '$probe';"
    ticket=$(tenant_bench_ticket "$STACK_TENANT_TICKET_KEYS" "$tenant")
    local floor_point="SELECT expires_at FROM chat.visitor_sessions WHERE id = '$probe' AND owner_id = '$tenant';"
    local enter="SELECT contexo_tickets.enter('$ticket');"
    local ten_floor="" ten_ticket=""
    for _ in 1 2 3 4 5 6 7 8 9 10; do ten_floor+=$floor_point$'\n'; ten_ticket+=$point$'\n'; done
    local dir=$WORK/tenant-bench
    mkdir -p "$dir"
    printf 'BEGIN;\n%s\nCOMMIT;\n' "$floor_point" >"$dir/point.floor.sql"
    printf 'BEGIN;\n%s\n%s\nCOMMIT;\n' "$enter" "$point" >"$dir/point.ticket.sql"
    printf 'BEGIN;\n%sCOMMIT;\n' "$ten_floor" >"$dir/ten.floor.sql"
    printf 'BEGIN;\n%s\n%sCOMMIT;\n' "$enter" "$ten_ticket" >"$dir/ten.ticket.sql"
    printf 'BEGIN;\nSELECT count(*) FROM chat.visitor_sessions WHERE owner_id = %s;\nCOMMIT;\n' "'$tenant'" >"$dir/scan.floor.sql"
    printf 'BEGIN;\n%s\nSELECT count(*) FROM chat.visitor_sessions;\nCOMMIT;\n' "$enter" >"$dir/scan.ticket.sql"
    # The ticketed scripts must see exactly the tenant's rows, or the comparison means nothing.
    local seen
    seen=$(PGPASSWORD=$role_password "$PG_BIN/psql" -X -qtA -h 127.0.0.1 -p "$pg_port" -U contexo_chat contexo_bench \
        -f "$dir/scan.ticket.sql" | tail -1)
    [[ $seen == 10000 ]] || stack_die "the ticketed scan saw $seen rows, not the tenant's 10000"

    echo "== one client, ${TENANT_BENCH_ROUNDS} rounds of ${TENANT_BENCH_SECONDS} s per way, alternating order"
    declare -A latency=() tps=()
    local round query way line
    for round in $(seq 1 "$TENANT_BENCH_ROUNDS"); do
        for query in point ten scan; do
            local ways=(floor ticket)
            ((round % 2 == 0)) && ways=(ticket floor)
            for way in "${ways[@]}"; do
                if [[ $way == floor ]]; then
                    line=$(tenant_bench_run postgres "$pg_password" "$dir/$query.$way.sql")
                else
                    line=$(tenant_bench_run contexo_chat "$role_password" "$dir/$query.$way.sql")
                fi
                latency[$query.$way]+="${line%% *} "
                tps[$query.$way]+="${line##* } "
            done
        done
    done
    tenant_bench_inside "$dir" "$tenant" "$probe" "$ticket"
    python3 - "$(declare -p latency)" <<'PY'
import re, statistics, sys
pairs = dict(re.findall(r'\[([a-z.]+)\]="([^"]*)"', sys.argv[1]))
median = {k: statistics.median(float(x) for x in v.split()) for k, v in pairs.items()}
names = {"point": "point lookup (1 statement)", "ten": "10 point lookups, 1 transaction", "scan": "count of 10,000 rows"}
print(f"{'query':34} {'floor ms':>9} {'ticket ms':>10} {'added':>9} {'ratio':>6}")
for q in ("point", "ten", "scan"):
    f, t = median[f"{q}.floor"], median[f"{q}.ticket"]
    print(f"{names[q]:34} {f:9.3f} {t:10.3f} {1000 * (t - f):7.0f} µs {t / f:5.2f}×")
per_statement = (median["ten.ticket"] - median["point.ticket"]) - (median["ten.floor"] - median["point.floor"])
print(f"per extra statement under RLS (ten minus one, ticket minus floor, / 9): {1000 * per_statement / 9:.0f} µs")
PY
    echo "== inside the database (PL/pgSQL loops, median of ${TENANT_BENCH_ROUNDS} runs)"
    python3 - "$dir"/inside.*.txt <<'PY'
import re, statistics, sys
runs = {}
for path in sys.argv[1:]:
    for name, micros in re.findall(r"(\w[\w ().,'-]*?): ([0-9.]+) us", open(path).read()):
        runs.setdefault(name, []).append(float(micros))
for name, values in runs.items():
    print(f"  {name:44} {statistics.median(values):7.1f} µs")
PY
}

# tenant_bench_inside DIR TENANT PROBE TICKET: per-call costs measured in PL/pgSQL loops, each way,
# TENANT_BENCH_ROUNDS times (DIR/inside.N.txt).
tenant_bench_inside() {
    local dir=$1 tenant=$2 probe=$3 ticket=$4 round
    for round in $(seq 1 "$TENANT_BENCH_ROUNDS"); do
        {
            PGPASSWORD=$role_password "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U contexo_chat contexo_bench 2>&1 <<SQL
BEGIN;
SELECT contexo_tickets.enter('$ticket') IS NOT NULL;
DO \$\$ DECLARE x uuid; t timestamptz := clock_timestamp(); BEGIN
  FOR i IN 1..10000 LOOP x := chat.current_tenant(); END LOOP;
  RAISE NOTICE 'current_tenant(), the check each statement makes: % us', round(extract(epoch FROM clock_timestamp() - t) * 100, 2);
END \$\$;
DO \$\$ DECLARE x timestamptz; t timestamptz := clock_timestamp(); BEGIN
  FOR i IN 1..10000 LOOP SELECT expires_at INTO x FROM chat.visitor_sessions WHERE id = '$probe'; END LOOP;
  RAISE NOTICE 'point lookup under RLS with the ticket: % us', round(extract(epoch FROM clock_timestamp() - t) * 100, 2);
END \$\$;
DO \$\$ DECLARE x uuid; t timestamptz := clock_timestamp(); BEGIN
  FOR i IN 1..1000 LOOP x := contexo_tickets.enter('$ticket'); END LOOP;
  RAISE NOTICE 'enter(ticket), once per transaction: % us', round(extract(epoch FROM clock_timestamp() - t) * 1000, 2);
END \$\$;
COMMIT;
SQL
            STACK_PG_PORT=$pg_port STACK_PG_PASSWORD=$pg_password stack_psql -q -d contexo_bench 2>&1 <<SQL
DO \$\$ DECLARE x timestamptz; t timestamptz := clock_timestamp(); BEGIN
  FOR i IN 1..10000 LOOP SELECT expires_at INTO x FROM chat.visitor_sessions WHERE id = '$probe' AND owner_id = '$tenant'; END LOOP;
  RAISE NOTICE 'point lookup, superuser, explicit WHERE: % us', round(extract(epoch FROM clock_timestamp() - t) * 100, 2);
END \$\$;
SQL
        } >"$dir/inside.$round.txt"
    done
}
