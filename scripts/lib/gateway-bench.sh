# shellcheck shell=bash
# scripts/lib/gateway-bench.sh: `scripts/bench gateway`, sourced by scripts/bench (uses its
# bench_stack, BENCH_PIDS and WORK).
#
# One backend route, Billing's GET /v1/billing/plans (the plan catalog from memory, so the backend
# itself costs little and the proxies' cost shows), is loaded with wrk three ways, in rounds that
# alternate the order so drift on this noisy machine hits all three alike:
#   direct   wrk → contexo-billing, carrying an internal token as the gateway would
#   nginx    wrk → Debian's nginx (plain reverse proxy, upstream keep-alive) → contexo-billing
#   gateway  wrk → contexo-gateway → contexo-billing, with every check on: the customer JWT verified,
#            the per-IP GCRA rate limit in Redis, plan context (cached), Helmet headers, a fresh
#            internal token per request
# Throughput is measured at 32 connections, latency at 1 connection (no queueing in the numbers).
# BENCH_HOLD=FILE keeps the three up for profiling instead (URLs and tokens written to FILE).

GATEWAY_BENCH_PATH=/v1/billing/plans
GATEWAY_BENCH_SECONDS=${BENCH_SECONDS:-8}
GATEWAY_BENCH_ROUNDS=${BENCH_ROUNDS:-3}

# gateway_bench_jwt customer|internal SECRET SUBJECT SECONDS: an HS256 token valid for SECONDS,
# shaped like a Supabase access token (customer) or like the gateway's internal token for Billing.
gateway_bench_jwt() {
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, json, sys, time
kind, secret, subject, seconds = sys.argv[1:5]
def b64(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
now = int(time.time())
claims = {"sub": subject, "iat": now, "exp": now + int(seconds)}
if kind == "customer":
    claims.update({"aud": "authenticated", "role": "authenticated", "iss": "https://bench.supabase.test/auth/v1"})
else:
    claims.update({"aud": "billing", "iss": "contexo-gateway", "rid": "bench"})
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps(claims).encode())
signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
print(f"{head}.{body}.{b64(signature)}")
PY
}

# gateway_bench_nginx PORT UPSTREAM_PORT: Debian's nginx in the foreground of a background job,
# everything it writes under $WORK/nginx.
gateway_bench_nginx() {
    local port=$1 upstream=$2 dir=$WORK/nginx user_line=""
    mkdir -p "$dir"
    stack_is_root && user_line="user nobody nogroup;"
    cat >"$dir/nginx.conf" <<CONF
$user_line
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    upstream billing { server 127.0.0.1:$upstream; keepalive 64; }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://billing;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
    nginx -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/stdout.log" 2>&1 </dev/null &
    BENCH_PIDS+=($!)
}

# gateway_bench_wait PORT: until something answers HTTP on PORT (30 s at most).
gateway_bench_wait() {
    local attempt
    for ((attempt = 0; attempt < 300; attempt++)); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    stack_die "nothing answers on port $1 (logs in $WORK)"
}

# gateway_bench_wrk NAME URL CONNECTIONS HEADER: one wrk run; prints "NAME rps p50_ms p99_ms non2xx".
gateway_bench_wrk() {
    local name=$1 url=$2 connections=$3 header=$4 threads=2 out
    ((connections == 1)) && threads=1
    out=$(wrk -t"$threads" -c"$connections" -d"${GATEWAY_BENCH_SECONDS}s" --latency -H "$header" "$url") ||
        stack_die "wrk failed against $url"
    awk -v name="$name" '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v
        }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        END { printf "%s %.0f %.3f %.3f %d\n", name, rps, p50, p99, bad + 0 }' <<<"$out"
}

bench_gateway() {
    # shellcheck disable=SC2034 # bench_stack fills these in for its caller
    local pg_password role_password pg_port redis_port config bin
    local billing gateway nginx_port secret jwt customer internal customer_token round results name
    if ! command -v wrk >/dev/null 2>&1 || ! command -v nginx >/dev/null 2>&1; then stack_apt_install wrk nginx; fi
    bench_stack "contexo-gateway contexo-billing contexo-migrate"
    # stack_psql reads these.
    export STACK_PG_PORT=$pg_port STACK_PG_PASSWORD=$pg_password
    stack_psql -q -c "CREATE DATABASE contexo_bench" >/dev/null || stack_die "could not create contexo_bench"
    stack_migrate "$bin" "$pg_port" contexo_bench "$pg_password" "$role_password" >/dev/null 2>&1
    billing=$(stack_free_port)
    gateway=$(stack_free_port "$billing")
    nginx_port=$(stack_free_port "$billing" "$gateway")
    secret=$(stack_random_hex 32)
    jwt=$(stack_random_hex 32)
    customer=$(python3 -c 'import uuid; print(uuid.uuid4())')
    mkdir -p "$WORK/logs"
    stack_event_keys
    local billing_keys=() gateway_keys=() line
    while IFS= read -r line; do billing_keys+=("$line"); done < <(stack_event_env billing)
    while IFS= read -r line; do gateway_keys+=("$line"); done < <(stack_event_env gateway)
    local commit
    commit=$(git -C "$REPO" rev-parse --verify -q HEAD || echo bench)
    env -i PATH="$PATH" HOME="${HOME:-/tmp}" CONTEXO_ENV=production CONTEXO_LOG_LEVEL=warning "${billing_keys[@]}" \
        "CONTEXO_GIT_COMMIT=$commit" CONTEXO_DATABASE_PLAINTEXT=allow \
        CONTEXO_HTTP_HOST=127.0.0.1 CONTEXO_HTTP_PORT="$billing" "CONTEXO_REDIS_URL=redis://127.0.0.1:$redis_port" \
        "CONTEXO_INTERNAL_TOKEN_SECRET=$secret" "CONTEXO_PLAN_CATALOG_FILE=$REPO/config/plans.json" \
        "CONTEXO_DATABASE_URL=postgres://contexo_billing:$role_password@127.0.0.1:$pg_port/contexo_bench" \
        "$bin/contexo-billing" >"$WORK/logs/billing.log" 2>&1 </dev/null &
    BENCH_PIDS+=($!)
    # Rate limiting stays on, at its highest setting (16,666 requests/s from the one client IP).
    env -i PATH="$PATH" HOME="${HOME:-/tmp}" CONTEXO_ENV=production CONTEXO_LOG_LEVEL=warning "${gateway_keys[@]}" \
        "CONTEXO_GIT_COMMIT=$commit" \
        CONTEXO_HTTP_HOST=127.0.0.1 CONTEXO_HTTP_PORT="$gateway" "CONTEXO_REDIS_URL=redis://127.0.0.1:$redis_port" \
        "CONTEXO_INTERNAL_TOKEN_SECRET=$secret" "CONTEXO_JWT_SECRET=$jwt" CONTEXO_RATE_LIMIT_IP_PER_MINUTE=1000000 \
        CONTEXO_JWT_ISSUER=https://bench.supabase.test/auth/v1 \
        "CONTEXO_CHAT_URL=http://127.0.0.1:9" "CONTEXO_INGEST_URL=http://127.0.0.1:9" \
        "CONTEXO_BILLING_URL=http://127.0.0.1:$billing" "CONTEXO_WIDGET_SCRIPT_FILE=$REPO/Services/Gateway/Public/widget.js" \
        "CONTEXO_OPENAPI_FILE=$REPO/Services/Gateway/Public/openapi.json" \
        "$bin/contexo-gateway" >"$WORK/logs/gateway.log" 2>&1 </dev/null &
    BENCH_PIDS+=($!)
    gateway_bench_nginx "$nginx_port" "$billing"
    gateway_bench_wait "$billing"
    gateway_bench_wait "$gateway"
    gateway_bench_wait "$nginx_port"
    customer_token=$(gateway_bench_jwt customer "$jwt" "$customer" 3600)
    # gateway_bench_target NAME: the URL and credential header of one way in. Internal tokens live
    # 60 s at most (as the gateway mints them), so each run gets a fresh one.
    gateway_bench_target() {
        internal=$(gateway_bench_jwt internal "$secret" "$customer" 60)
        case $1 in
            direct) url="http://127.0.0.1:$billing$GATEWAY_BENCH_PATH"; header="X-Contexo-Internal-Token: $internal" ;;
            nginx) url="http://127.0.0.1:$nginx_port$GATEWAY_BENCH_PATH"; header="X-Contexo-Internal-Token: $internal" ;;
            gateway) url="http://127.0.0.1:$gateway$GATEWAY_BENCH_PATH"; header="Authorization: Bearer $customer_token" ;;
        esac
    }
    local url header status
    for name in direct nginx gateway; do
        gateway_bench_target "$name"
        status=$(curl -s -o /dev/null -w '%{http_code}' -H "$header" "$url")
        [[ $status == 200 ]] || stack_die "$name: GET $GATEWAY_BENCH_PATH answered $status, not 200 (logs in $WORK/logs)"
    done
    if [[ -n ${BENCH_HOLD:-} ]]; then
        # For profiling by hand: the three doors stay up until Ctrl-C.
        printf 'direct=http://127.0.0.1:%s nginx=http://127.0.0.1:%s gateway=http://127.0.0.1:%s\ninternal=%s\ncustomer=%s\n' \
            "$billing" "$nginx_port" "$gateway" "$internal" "$customer_token" | tee "$BENCH_HOLD"
        sleep infinity
    fi
    echo "== GET $GATEWAY_BENCH_PATH, $GATEWAY_BENCH_ROUNDS rounds of ${GATEWAY_BENCH_SECONDS}s per way and load; wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $(nginx -v 2>&1 | sed 's/.*: //')"
    results=$WORK/results.txt
    : >"$results"
    for ((round = 1; round <= GATEWAY_BENCH_ROUNDS; round++)); do
        local order=(direct nginx gateway)
        ((round % 3 == 2)) && order=(nginx gateway direct)
        ((round % 3 == 0)) && order=(gateway direct nginx)
        for name in "${order[@]}"; do
            gateway_bench_target "$name"
            echo "throughput $(gateway_bench_wrk "$name" "$url" 32 "$header")" | tee -a "$results" | sed 's/^/  round '"$round"' /'
            echo "latency $(gateway_bench_wrk "$name" "$url" 1 "$header")" | tee -a "$results" | sed 's/^/  round '"$round"' /'
        done
    done
    python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
def median(load, name, column):
    return statistics.median(float(r[column]) for r in rows if r[0] == load and r[1] == name)
bad = sum(int(r[5]) for r in rows)
print("== medians over rounds (requests/s at 32 connections; latency in ms at 1 connection)")
print(f"{'':8} {'req/s @32':>10} {'vs direct':>10} {'p50 @1':>8} {'p99 @1':>8} {'p50 @32':>8} {'p99 @32':>8}")
for name in ("direct", "nginx", "gateway"):
    rps = median("throughput", name, 2)
    print(f"{name:8} {rps:>10.0f} {rps / median('throughput', 'direct', 2):>9.2f}x "
          f"{median('latency', name, 3):>8.3f} {median('latency', name, 4):>8.3f} "
          f"{median('throughput', name, 3):>8.3f} {median('throughput', name, 4):>8.3f}")
ratio = median("throughput", "gateway", 2) / median("throughput", "nginx", 2)
for name in ("nginx", "gateway"):
    print(f"{name} adds p50 {median('latency', name, 3) - median('latency', 'direct', 3):+.3f} ms, "
          f"p99 {median('latency', name, 4) - median('latency', 'direct', 4):+.3f} ms at 1 connection")
print(f"gateway / nginx throughput: {ratio:.2f}x (aim >= 0.9x); non-2xx responses in all runs: {bad}")
sys.exit(1 if bad else 0)
PY
}
