#!/bin/sh
# backline-sync@DEVICE.service: mount the stick /dev/DEVICE read-only, run `backline sync` on it
# as the backline user, tell the daemon to read the library again, unmount. Exit 4 from the
# sync means sync.toml asks for takes to be exported: the stick is then made writable and the
# sync run again (what was copied is unchanged by then, so this pass only exports).
# Installed by deploy/install.sh as /opt/backline/usb-sync.
set -eu
device=/dev/$1
mnt=/run/backline-usb/$1
backline=/opt/backline/venv/bin/backline
options=ro,nosuid,nodev,noexec
if [ -n "$(findmnt -rno TARGET "$device")" ]; then     # the box's own data disk, say
    echo "$device is mounted already: not a stick to sync"
    exit 0
fi
case "$(blkid -o value -s TYPE "$device")" in
    vfat|exfat|ntfs|ntfs3) options=$options,uid=backline,gid=backline ;;   # no owners of their own
esac
mkdir -p "$mnt"
mount -o "$options" "$device" "$mnt"
trap 'umount "$mnt" && rmdir "$mnt"' EXIT
if [ ! -d "$mnt/backline" ]; then
    echo "$device: no backline/ folder: nothing to sync"
    exit 0
fi
code=0
runuser -u backline -- "$backline" sync "$mnt" --config /etc/backline/config.toml || code=$?
if [ "$code" = 4 ]; then
    mount -o remount,rw "$mnt"
    code=0
    runuser -u backline -- "$backline" sync "$mnt" --config /etc/backline/config.toml || code=$?
fi
# New versions take effect when a song is next loaded; a reload waits for the playing song.
systemctl reload backline.service || true
exit "$code"
