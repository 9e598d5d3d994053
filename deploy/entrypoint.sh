#!/bin/sh
# `apollonia` in the images (installed as /usr/local/bin/apollonia; the real command is
# /usr/local/libexec/apollonia), so the service, `docker compose exec ... apollonia` and the
# health check all run as the same user.
#
# Started as root (the images' default): hands the state folder (APOLLONIA_CONFIG_DIR, /config)
# to APOLLONIA_UID:APOLLONIA_GID (1001:1001 unless set; PUID/PGID are read too, as on Unraid and
# linuxserver.io images) when anything in it belongs to someone else (a new named volume, a host
# folder made by root), then drops root for good with setpriv (util-linux). The media is never
# touched. Started as another user (`docker run --user`): runs the command as that user.
#
# POSIX sh: the images' shell is busybox.
set -eu

real="${APOLLONIA_BIN:-/usr/local/libexec/apollonia}"

if [ "$(id -u)" != 0 ]; then
    exec "$real" "$@"
fi

uid="${APOLLONIA_UID:-${PUID:-1001}}"
gid="${APOLLONIA_GID:-${PGID:-1001}}"
case "$uid" in '' | *[!0-9]*) bad=1 ;; *) bad=0 ;; esac
case "$gid" in '' | *[!0-9]*) bad=1 ;; esac
if [ "$bad" = 1 ]; then
    echo "Error: APOLLONIA_UID and APOLLONIA_GID must be numbers, got '$uid' and '$gid'" >&2
    exit 1
fi
if [ "$uid" = 0 ]; then
    # Asked to run as root: nothing to hand over or drop.
    exec "$real" "$@"
fi

config="${APOLLONIA_CONFIG_DIR:-/config}"
if [ -d "$config" ] && [ -n "$(find "$config" ! -user "$uid" -o ! -group "$gid" | head -n 1)" ]; then
    if ! chown -R "$uid:$gid" "$config"; then
        echo "Warning: could not hand $config to $uid:$gid; run 'chown -R $uid:$gid' on the host folder mounted there" >&2
    fi
fi

exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$real" "$@"
