#!/usr/bin/env bash
# Install Backline on Raspberry Pi OS (Bookworm, 64-bit), or remove it.
#
#   sudo deploy/install.sh [--profile NAME]               install (or update) and start
#   sudo deploy/install.sh --data DEVICE|PATH [--format-data] [--overlay]
#                                       /var/lib/backline on its own ext4 partition or USB disk
#                                       (DEVICE: /dev/..., UUID=..., LABEL=...) or a folder on
#                                       one (PATH), mounted before the service; --overlay also
#                                       makes the root read-only, and is refused without --data
#   sudo deploy/install.sh --tls                           also serve the web remote over HTTPS with a
#                                       self-signed certificate for backline.local, made once
#   sudo deploy/install.sh --hostname NAME                 the box answers as NAME.local (default:
#                                       a Raspberry Pi OS default name, raspberrypi, becomes
#                                       backline; a name someone chose is kept)
#   sudo deploy/install.sh --uninstall                     remove (the library and recordings stay)
#   deploy/install.sh --root DIR [--profile NAME] [--data ...]   write the files into DIR only (tests)
#
# Profiles are hw/profiles/NAME.toml (the audio HAT: its device, channels and dtoverlay).
# Nothing is formatted unless --format-data is given: a DEVICE must already hold ext4.
# --format-data formats only a DEVICE that does not (so running it again keeps the data).
# Running it twice changes nothing the second time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

root=/
profile=usb
overlay=no
data=""
format_data=no
tls=no
hostname_wanted=
action=install
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=$2; shift 2 ;;
        --profile) profile=$2; shift 2 ;;
        --overlay) overlay=yes; shift ;;
        --data) data=$2; shift 2 ;;
        --format-data) format_data=yes; shift ;;
        --tls) tls=yes; shift ;;
        --hostname) hostname_wanted=$2; shift 2 ;;
        --uninstall) action=uninstall; shift ;;
        *) echo "install.sh: unknown option $1 (see the top of this file)" >&2; exit 2 ;;
    esac
done
root=${root%/}
if [ -n "$hostname_wanted" ] && ! [[ "$hostname_wanted" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]; then
    echo "install.sh: --hostname $hostname_wanted: a host name is lower-case letters, digits" \
         "and inner hyphens, at most 63 (e.g. backline, stage-left)" >&2
    exit 2
fi
live=no
[ -z "$root" ] && live=yes

profile_file="$here/hw/profiles/$profile.toml"
if [ "$action" = install ] && [ ! -f "$profile_file" ]; then
    names=""
    for f in "$here"/hw/profiles/*.toml; do names="$names $(basename "$f" .toml)"; done
    echo "install.sh: no profile '$profile'; choose one of:$names" >&2
    exit 2
fi

if [ "$action" = install ] && [ "$overlay" = yes ] && [ -z "$data" ]; then
    echo "install.sh: --overlay makes the root read-only, and the library, recordings and what" \
         "the box learns in /var/lib/backline would be lost at every power-off; give" \
         "--data DEVICE|PATH (an ext4 partition or USB disk) to keep them" >&2
    exit 2
fi
case "$data" in
    ""|/*|UUID=*|LABEL=*) ;;
    *) echo "install.sh: --data $data: give a device (/dev/..., UUID=..., LABEL=...) or an absolute folder" >&2
       exit 2 ;;
esac
if [ "$format_data" = yes ] && [ -z "$data" ]; then
    echo "install.sh: --format-data formats the --data DEVICE; give --data" >&2
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
        systemctl disable --now backline.service backline-web.service 2>/dev/null || true
    fi
    if [ "$live" = yes ]; then
        systemctl disable --now var-lib-backline.mount 2>/dev/null || true
    fi
    rm -f "$root/etc/systemd/system/backline.service" "$root/etc/polkit-1/rules.d/50-backline.rules" \
          "$root/etc/systemd/system/backline-web.service" \
          "$root/etc/systemd/system/var-lib-backline.mount" \
          "$root/etc/udev/rules.d/99-backline-usb.rules" "$root/etc/systemd/system/backline-sync@.service" \
          "$root/etc/avahi/services/backline.service"
    rm -rf "$root/opt/backline"
    [ "$live" = yes ] && systemctl daemon-reload && udevadm control --reload
    say "removed; /etc/backline and the library in /var/lib/backline are kept"
    exit 0
fi

if [ "$live" = yes ]; then
    apt-get update -qq
    # liblgpio-dev and swig: gpiozero's pin library (lgpio) is built from source on the Pi;
    # rubberband-cli renders a song's stems at another key and tempo (issue 16);
    # libfluidsynth3 and timgm6mb-soundfont sound a chart's parts (issue 19)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev \
        build-essential pkg-config libasound2-dev libsystemd-dev alsa-utils cpufrequtils \
        liblgpio-dev swig rubberband-cli libfluidsynth3 timgm6mb-soundfont >/dev/null
    id backline >/dev/null 2>&1 || { useradd --system --home /var/lib/backline --shell /usr/sbin/nologin backline; changed=1; }
    # backline-remote: who may use the daemon's control socket (docs/remote.md)
    getent group backline-remote >/dev/null || { groupadd --system backline-remote; changed=1; }
    for g in audio gpio i2c spi backline-remote; do
        if getent group "$g" >/dev/null && ! id -nG backline | grep -qw "$g"; then
            usermod -aG "$g" backline
            changed=1
        fi
    done
    # backline-web: the web remote's own user; the socket's group, and the library's
    # group for uploads and the trash (docs/remote.md)
    id backline-web >/dev/null 2>&1 || { useradd --system --home /var/lib/backline-web \
        --shell /usr/sbin/nologin --groups backline-remote,backline backline-web; changed=1; }
    if [ ! -x /opt/backline/venv/bin/backline ] || [ "$here/pyproject.toml" -nt /opt/backline/venv ]; then
        python3 -m venv /opt/backline/venv
        /opt/backline/venv/bin/pip install -q "$here"
        touch /opt/backline/venv
        changed=1
    fi
fi

# data_unit: the mount unit that puts /var/lib/backline on the --data device or folder
data_unit() {
    local what=$data type=ext4 options=noatime,data=ordered,errors=remount-ro
    case "$data" in
        UUID=*) what="/dev/disk/by-uuid/${data#UUID=}" ;;
        LABEL=*) what="/dev/disk/by-label/${data#LABEL=}" ;;
        /dev/*)
            if [ "$live" = yes ]; then      # sda1 may be sdb1 next boot; its UUID stays
                local uuid
                uuid=$(blkid -o value -s UUID "$data") || true
                [ -n "$uuid" ] && what="/dev/disk/by-uuid/$uuid"
            fi ;;
        *) type=none; options=bind ;;
    esac
    cat <<UNIT
# Backline's library, recordings and learned settings, kept off the (read-only) root.
# Written by deploy/install.sh --data. A missing disk does not stop the boot; the player
# (RequiresMountsFor=/var/lib/backline) then does not start until it is there.
[Unit]
Description=Backline data (library, recordings, learned settings)
Before=backline.service

[Mount]
What=$what
Where=/var/lib/backline
Type=$type
Options=$options
TimeoutSec=20

[Install]
WantedBy=local-fs.target
UNIT
}

if [ -n "$data" ]; then
    if [ "$live" = yes ]; then
        case "$data" in
            /dev/*|UUID=*|LABEL=*)
                dev=$(blkid -o device -t "$data" 2>/dev/null || echo "$data")
                [ -b "$dev" ] || { echo "install.sh: --data $data: no such block device" >&2; exit 2; }
                fs=$(blkid -o value -s TYPE "$dev" || true)
                if [ "$format_data" = yes ] && [ "$fs" != ext4 ]; then   # an ext4 one is kept
                    findmnt -n "$dev" >/dev/null && { echo "install.sh: $dev is mounted; unmount it first" >&2; exit 2; }
                    mkfs.ext4 -q -F -L backline "$dev"      # journaled; asked for by --format-data
                    say "formatted $dev as ext4 (label backline)"
                    data="UUID=$(blkid -o value -s UUID "$dev")"
                elif [ "$fs" != ext4 ]; then
                    echo "install.sh: $dev holds ${fs:-no filesystem}, not ext4; copy off what it" \
                         "holds, then run again with --format-data (which erases it)" >&2
                    exit 2
                fi ;;
            *)
                [ -d "$data" ] || { echo "install.sh: --data $data: no such folder" >&2; exit 2; }
                if [ "$(findmnt -n -o TARGET --target "$data")" = / ]; then
                    echo "install.sh: --data $data is on the root filesystem; give a folder on another disk" >&2
                    exit 2
                fi ;;
        esac
    fi
    unit_text=$(mktemp)
    trap 'rm -f "$unit_text"' EXIT
    data_unit > "$unit_text"
    put_file "$unit_text" "$root/etc/systemd/system/var-lib-backline.mount" 0644
    if [ "$live" = yes ]; then      # mounted before the folders below are made on it
        systemctl daemon-reload
        systemctl enable --now var-lib-backline.mount >/dev/null 2>&1
    fi
fi

put_file "$here/systemd/backline.service" "$root/etc/systemd/system/backline.service" 0644
put_file "$here/systemd/backline-web.service" "$root/etc/systemd/system/backline-web.service" 0644
put_file "$here/systemd/50-backline.rules" "$root/etc/polkit-1/rules.d/50-backline.rules" 0644
# USB sticks: the udev rule starts backline-sync@DEVICE, which runs /opt/backline/usb-sync
put_file "$here/systemd/99-backline-usb.rules" "$root/etc/udev/rules.d/99-backline-usb.rules" 0644
put_file "$here/systemd/backline-sync@.service" "$root/etc/systemd/system/backline-sync@.service" 0644
put_file "$here/deploy/usb-sync.sh" "$root/opt/backline/usb-sync" 0755
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
for demo in demo demo-chart; do        # the demo song, and the band from a chord chart
    if [ ! -d "$root/var/lib/backline/library/songs/$demo" ]; then
        cp -r "$here/appliance/demo/songs/$demo" "$root/var/lib/backline/library/songs/$demo"
        changed=1
    fi
done

# box_name: the box answers as NAME.local through Avahi, so the web remote is
# http://backline.local on the venue's network: a Raspberry Pi OS default name becomes
# "backline", --hostname sets another, and a name someone chose stays
box_name() {
    local old new hosts="$root/etc/hosts"
    old=$(cat "$root/etc/hostname" 2>/dev/null || hostname)
    old=${old%%.*}
    new=$hostname_wanted
    [ -z "$new" ] && [ "$old" = raspberrypi ] && new=backline
    if [ -z "$new" ] || [ "$new" = "$old" ]; then
        return 0
    fi
    mkdir -p "$root/etc"
    printf '%s\n' "$new" > "$root/etc/hostname"
    if [ -f "$hosts" ] && grep -q '^127\.0\.1\.1[[:space:]]' "$hosts"; then
        sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$new/" "$hosts"
    else
        printf '127.0.1.1\t%s\n' "$new" >> "$hosts"
    fi
    [ "$live" = yes ] && hostnamectl set-hostname "$new"
    say "the box is $new.local now (it was $old)"
    changed=1
}
box_name

# web_tls: the web remote's self-signed certificate for backline.local and this host, made
# once (running again keeps it, so browsers that trust it go on trusting it), its key
# readable by the backline-web user only, and the config lines that serve HTTPS with it
web_tls() {
    local dir="$root/etc/backline/web" cfg="$root/etc/backline/config.toml" host
    host=$(cat "$root/etc/hostname" 2>/dev/null || hostname)
    host=${host%%.*}
    if [ ! -f "$dir/web.key" ] || [ ! -f "$dir/web.crt" ]; then
        command -v openssl >/dev/null || { echo "install.sh: --tls needs openssl (apt-get install openssl)" >&2; exit 2; }
        mkdir -p "$dir"
        (umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -days 3650 -subj /CN=backline.local \
            -addext "subjectAltName=DNS:backline.local,DNS:$host.local,DNS:$host" \
            -keyout "$dir/web.key" -out "$dir/web.crt" 2>/dev/null)
        chmod 0644 "$dir/web.crt"
        chmod 0600 "$dir/web.key"
        [ "$live" = yes ] && chown backline-web:backline-web "$dir/web.key"
        say "made a self-signed certificate for backline.local and $host in /etc/backline/web"
        changed=1
    fi
    if ! grep -q '^tls_cert *=' "$cfg"; then
        local lines='tls_cert = "/etc/backline/web/web.crt"\ntls_key = "/etc/backline/web/web.key"'
        if grep -qx '\[web\]' "$cfg"; then
            sed -i "/^\[web\]\$/a $lines" "$cfg"
        else
            printf '\n[web]\n%b\n' "$lines" >> "$cfg"
        fi
        say "added tls_cert and tls_key under [web] in /etc/backline/config.toml"
        changed=1
        web_restart=yes     # a running server reads the config only when it starts
    fi
}
[ "$tls" = yes ] && web_tls

# Avahi (when installed) announces the web remote: _https._tcp once the config serves TLS
if [ -d "$root/etc/avahi" ]; then
    avahi_text=$(mktemp)
    trap 'rm -f "$avahi_text" "${unit_text:-}"' EXIT
    if grep -q '^tls_cert *=' "$root/etc/backline/config.toml"; then
        sed 's/<type>_http\._tcp</<type>_https._tcp</' "$here/deploy/avahi/backline.service" > "$avahi_text"
    else
        cp "$here/deploy/avahi/backline.service" "$avahi_text"
    fi
    put_file "$avahi_text" "$root/etc/avahi/services/backline.service" 0644
fi

overlay_name=$(sed -n 's/^# dtoverlay: *//p' "$profile_file")
if [ -n "$overlay_name" ]; then
    add_line "$(boot_config)" "dtoverlay=$overlay_name"
fi
add_line "$root/etc/default/cpufrequtils" "GOVERNOR=performance"

if [ "$live" = yes ]; then
    chown -R backline:backline /var/lib/backline /var/cache/backline
    # the web remote (group backline) adds songs and moves them to the trash
    find /var/lib/backline/library -type d -exec chmod g+rwxs {} +
    systemctl daemon-reload
    udevadm control --reload
    systemctl enable --now backline.service >/dev/null 2>&1 || systemctl restart backline.service
    systemctl enable --now backline-web.service >/dev/null 2>&1 || systemctl restart backline-web.service
    [ "${web_restart:-no}" = yes ] && systemctl restart backline-web.service
    if [ "$overlay" = yes ] && command -v raspi-config >/dev/null; then
        raspi-config nonint enable_overlayfs
        say "read-only root overlay on after the next boot; /var/lib/backline stays writable on $data"
    fi
fi
[ "$changed" = 0 ] && say "nothing to change"
exit 0
