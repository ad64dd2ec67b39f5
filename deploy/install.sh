#!/usr/bin/env bash
# Install Backline on Raspberry Pi OS (Bookworm, 64-bit), or remove it.
#
#   sudo deploy/install.sh [--profile NAME] [--overlay]    install (or update) and start
#   sudo deploy/install.sh --uninstall                     remove (the library and recordings stay)
#   deploy/install.sh --root DIR [--profile NAME]          write the files into DIR only (tests)
#
# Profiles are hw/profiles/NAME.toml (the audio HAT: its device, channels and dtoverlay).
# Running it twice changes nothing the second time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

root=/
profile=usb
overlay=no
action=install
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=$2; shift 2 ;;
        --profile) profile=$2; shift 2 ;;
        --overlay) overlay=yes; shift ;;
        --uninstall) action=uninstall; shift ;;
        *) echo "install.sh: unknown option $1 (see the top of this file)" >&2; exit 2 ;;
    esac
done
root=${root%/}
live=no
[ -z "$root" ] && live=yes

profile_file="$here/hw/profiles/$profile.toml"
if [ "$action" = install ] && [ ! -f "$profile_file" ]; then
    names=""
    for f in "$here"/hw/profiles/*.toml; do names="$names $(basename "$f" .toml)"; done
    echo "install.sh: no profile '$profile'; choose one of:$names" >&2
    exit 2
fi

changed=0
say() { echo "install.sh: $*"; }

# put_file SRC DEST MODE: copy when different
put_file() {
    if [ ! -f "$2" ] || ! cmp -s "$1" "$2"; then
        install -D -m "$3" "$1" "$2"
        say "wrote ${2#"$root"}"
        changed=1
    fi
}

# add_line FILE LINE: append once
add_line() {
    mkdir -p "$(dirname "$1")"
    [ -f "$1" ] || : > "$1"
    if ! grep -qxF "$2" "$1"; then
        echo "$2" >> "$1"
        say "added '$2' to ${1#"$root"}"
        changed=1
    fi
}

boot_config() {
    for f in "$root/boot/firmware/config.txt" "$root/boot/config.txt"; do
        if [ -f "$f" ]; then echo "$f"; return; fi
    done
    echo "$root/boot/firmware/config.txt"
}

if [ "$action" = uninstall ]; then
    if [ "$live" = yes ]; then
        systemctl disable --now backline.service 2>/dev/null || true
    fi
    rm -f "$root/etc/systemd/system/backline.service" "$root/etc/polkit-1/rules.d/50-backline.rules"
    rm -rf "$root/opt/backline"
    [ "$live" = yes ] && systemctl daemon-reload
    say "removed; /etc/backline and the library in /var/lib/backline are kept"
    exit 0
fi

if [ "$live" = yes ]; then
    apt-get update -qq
    # liblgpio-dev and swig: gpiozero's pin library (lgpio) is built from source on the Pi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev \
        build-essential pkg-config libasound2-dev libsystemd-dev alsa-utils cpufrequtils \
        liblgpio-dev swig >/dev/null
    id backline >/dev/null 2>&1 || { useradd --system --home /var/lib/backline --shell /usr/sbin/nologin backline; changed=1; }
    for g in audio gpio i2c spi; do
        if getent group "$g" >/dev/null && ! id -nG backline | grep -qw "$g"; then
            usermod -aG "$g" backline
            changed=1
        fi
    done
    if [ ! -x /opt/backline/venv/bin/backline ] || [ "$here/pyproject.toml" -nt /opt/backline/venv ]; then
        python3 -m venv /opt/backline/venv
        /opt/backline/venv/bin/pip install -q "$here"
        touch /opt/backline/venv
        changed=1
    fi
fi

put_file "$here/systemd/backline.service" "$root/etc/systemd/system/backline.service" 0644
put_file "$here/systemd/50-backline.rules" "$root/etc/polkit-1/rules.d/50-backline.rules" 0644
if [ ! -f "$root/etc/backline/config.toml" ]; then
    put_file "$profile_file" "$root/etc/backline/config.toml" 0644
fi
for d in var/lib/backline/library/songs var/lib/backline/library/setlists \
         var/lib/backline/recordings var/cache/backline; do
    if [ ! -d "$root/$d" ]; then
        mkdir -p "$root/$d"
        changed=1
    fi
done
if [ ! -d "$root/var/lib/backline/library/songs/demo" ]; then
    cp -r "$here/appliance/demo/songs/demo" "$root/var/lib/backline/library/songs/demo"
    changed=1
fi

overlay_name=$(sed -n 's/^# dtoverlay: *//p' "$profile_file")
if [ -n "$overlay_name" ]; then
    add_line "$(boot_config)" "dtoverlay=$overlay_name"
fi
add_line "$root/etc/default/cpufrequtils" "GOVERNOR=performance"

if [ "$live" = yes ]; then
    chown -R backline:backline /var/lib/backline /var/cache/backline
    systemctl daemon-reload
    systemctl enable --now backline.service >/dev/null 2>&1 || systemctl restart backline.service
    if [ "$overlay" = yes ] && command -v raspi-config >/dev/null; then
        raspi-config nonint enable_overlayfs
        say "read-only root overlay on after the next boot; keep the library on a writable partition"
    fi
fi
[ "$changed" = 0 ] && say "nothing to change"
exit 0
