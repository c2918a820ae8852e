# shellcheck shell=bash
# Shared setup for scripts/test, scripts/demo and .ci/run: system packages, the Docker engine, the
# Python virtual environment with the pinned toolchain, and the collection link Ansible needs.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$REPO/.venv"
CACHE="$REPO/.cache"
export ANSIBLE_COLLECTIONS_PATH="$CACHE/collections"
export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-1}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

_t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - _t0 )); }
step() { printf '\n==> [%4ss] %s\n' "$(elapsed)" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# System packages: docker.io (engine), debootstrap (lab images), iproute2, shellcheck, and the commands listed in
# EXTRA_SYSTEM_PACKAGES, each from the Debian package of its name (scripts/test: chromium, the browser of the app's
# lab test). Installed when missing and root.
EXTRA_SYSTEM_PACKAGES=()
ensure_system_packages() {
    local missing=() extra
    for extra in ${EXTRA_SYSTEM_PACKAGES[@]+"${EXTRA_SYSTEM_PACKAGES[@]}"}; do
        command -v "$extra" >/dev/null 2>&1 || missing+=("$extra")
    done
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    command -v ip >/dev/null 2>&1 || missing+=(iproute2)
    command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}"
    fi
    step "installing system packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The Docker engine: used when it answers; started in the background when it is installed but not running
# (machines without systemd as PID 1 never start it by themselves).
ensure_docker() {
    if docker info >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        die "the Docker engine is not running. Start it (sudo systemctl start docker, or: sudo dockerd &) and retry"
    fi
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        step "starting the Docker engine (systemctl start docker)"
        systemctl start docker || true
    fi
    if ! docker info >/dev/null 2>&1; then
        step "starting the Docker engine in the background (log: $CACHE/dockerd.log)"
        mkdir -p "$CACHE"
        nohup dockerd >"$CACHE/dockerd.log" 2>&1 &
    fi
    local deadline=$(( $(date +%s) + 60 ))
    until docker info >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || die "the Docker engine did not answer within 60 s; see $CACHE/dockerd.log"
        sleep 0.5
    done
}

# The virtual environment with the pinned toolchain; reinstalled only when the requirement files change.
ensure_venv() {
    local python=${PYTHON:-python3}
    "$python" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)' \
        || die "$python is $("$python" -V 2>&1); ansible-core 2.19 needs Python 3.11 to 3.13 (set PYTHON=...)"
    local stamp
    stamp=$(cat "$REPO/requirements/requirements.txt" "$REPO/requirements/constraints.txt" | sha256sum | cut -c1-16)
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    step "creating the Python environment in .venv (pinned toolchain)"
    "$python" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -c "$REPO/requirements/constraints.txt" -r "$REPO/requirements/requirements.txt"
    echo "$stamp" >"$VENV/.stamp"
}

# Ansible finds collections only under ansible_collections/<namespace>/<name>: link the checkout there.
link_collection() {
    mkdir -p "$CACHE/collections/ansible_collections/aerostack"
    ln -sfn "$REPO" "$CACHE/collections/ansible_collections/aerostack/swarm"
}

activate() {
    # shellcheck disable=SC1091
    . "$VENV/bin/activate"
}
