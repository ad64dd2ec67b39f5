#!/usr/bin/env bash
# Backline on a development machine (Debian 12 / Raspberry Pi OS Bookworm).
#   deploy/dev.sh          set up (apt packages + .venv) and run the box, simulated, on the
#                          demo setlist (on the sound card; with none, into backline-sim/output.wav)
#   deploy/dev.sh test     set up, then run the tests (extra arguments go to pytest)
# Safe to run again: what is already installed is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

# libasound2-dev builds pyalsaaudio, libsystemd-dev systemd-python; jackd2 and libasound2-plugins (ALSA's jack plugin) give
# the tests real-time pacing without a sound card; sox is the benches' peer; systemd gives
# systemd-analyze, which scores the unit file; shellcheck checks the shell scripts;
# rubberband-cli renders stems at another key and tempo; chromium and chromium-driver run the
# web remote's page in the browser tests (Debian's build: nothing downloads a browser).
APT_PACKAGES=(python3 python3-venv python3-dev build-essential pkg-config alsa-utils
              libasound2-dev libsystemd-dev libasound2-plugins jackd2 sox systemd shellcheck
              rubberband-cli chromium chromium-driver libfluidsynth3 timgm6mb-soundfont)

need_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing ${need_apt[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

stamp=.venv/.backline-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    echo "$want" > "$stamp"
fi

case "${1:-run}" in
    test)
        shift
        exec .venv/bin/python -m pytest "$@"
        ;;
    run)
        # each demo song's loudness measured once on this machine (its SoundFont plays the
        # chart song's parts), so the demo plays at the box's target: kept beside song.toml
        for song in appliance/demo/songs/*/; do
            [ -f "$song/loudness.toml" ] || .venv/bin/backline prepare "$song" >/dev/null || true
        done
        .venv/bin/backline check appliance/demo
        exec .venv/bin/backline run --sim appliance/demo/setlists/demo.setlist   # keys: 1 play/stop, q quit
        ;;
    *)
        echo "usage: deploy/dev.sh [run|test [pytest args]]" >&2
        exit 2
        ;;
esac
