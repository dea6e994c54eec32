#!/usr/bin/env bash
# End to end against a real Label Studio: installs it from the Python
# registry into a virtual environment of its own (its dependencies pin
# versions the al package's tests do not want), starts it headless with a
# user token on a free port, and runs e2e.py, which drives Label Studio's
# API and `al-cli serve` as a team would. It fails, never skips, when Label
# Studio cannot be installed or started. The README's test command runs it
# last (about 2 minutes from a fresh clone; docs/benchmarks.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv="${AL_LS_VENV:-$target/ls-venv}"
if [ ! -x "$venv/bin/label-studio" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "label-studio>=1.23,<1.24"
fi
al_cli="$target/debug/al-cli"
if [ ! -x "$al_cli" ]; then
  cargo build -q -p al-cli
fi
work=$(mktemp -d)
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(20))')
# al's backend runs on this machine: Label Studio must be let to call a
# local address (it refuses them by default, against SSRF).
ML_BLOCK_LOCAL_IP=false SSRF_PROTECTION_ENABLED=false LABEL_STUDIO_BASE_DATA_DIR="$work/ls" \
  "$venv/bin/label-studio" start --no-browser --internal-host 127.0.0.1 --port "$port" --data-dir "$work/ls" \
  --username al-e2e@example.org --password "e2e-$token" --user-token "$token" >"$work/label-studio.log" 2>&1 &
ls_pid=$!
trap 'kill $ls_pid 2>/dev/null || true; wait $ls_pid 2>/dev/null || true; rm -rf "$work"' EXIT
status=0
AL_CLI="$al_cli" LS_URL="http://127.0.0.1:$port" LS_USER=al-e2e@example.org LS_PASSWORD="e2e-$token" \
  LS_TOKEN="$token" AL_FIXTURES="$root/fixtures" AL_WORK="$work" \
  "$venv/bin/python" tests/label-studio/e2e.py || status=$?
if [ "$status" != 0 ]; then
  echo "--- Label Studio's log (last 40 lines) ---" >&2
  tail -40 "$work/label-studio.log" >&2
fi
exit "$status"
