#!/bin/sh
# Entrypoint for the eclipse-mosquitto:2 container in docker-compose.yml (and test/containers): writes the
# password file that deploy/mosquitto/mosquitto.conf names, then runs Mosquitto with that config and the
# deploy/mosquitto/acl roles, unchanged. POSIX sh: the official image is Alpine.
#
#   K3SF_MQTT_USERS  whitespace-separated user:password pairs, e.g. "coordinator:s3cret edge-01:pw1"
#                    (a node's username is its node id; passwords must not contain whitespace)
#   K3SF_MQTT_PORT   loopback port to listen on instead of the config's 1883 (optional)
#
# Mounts expected (read-only is fine): deploy/mosquitto/mosquitto.conf at /k3s-fleet/mosquitto.conf and
# deploy/mosquitto/acl at /k3s-fleet/acl. The ACL is copied to where the config names it, owned by mosquitto
# and not world-readable, as Mosquitto >= 2.0.16 wants (it warns now and will refuse later).
# For a real deployment keep a password file made with mosquitto_passwd instead (see mosquitto.conf).
set -eu
conf=/k3s-fleet/mosquitto.conf
passwd=/etc/mosquitto/k3s-fleet.passwd

[ -r "$conf" ] || { echo "mosquitto-init: mount deploy/mosquitto/mosquitto.conf at $conf" >&2; exit 1; }
[ -r /k3s-fleet/acl ] || { echo "mosquitto-init: mount deploy/mosquitto/acl at /k3s-fleet/acl" >&2; exit 1; }
[ -n "${K3SF_MQTT_USERS:-}" ] || { echo "mosquitto-init: K3SF_MQTT_USERS is empty: no user could log in" >&2; exit 1; }

mkdir -p /etc/mosquitto
umask 077
cp /k3s-fleet/acl /etc/mosquitto/k3s-fleet.acl
rm -f "$passwd"
: >"$passwd"
set -f # split the list on whitespace, but never expand a '*' in a password
for pair in $K3SF_MQTT_USERS; do
  user="${pair%%:*}"
  password="${pair#*:}"
  if [ -z "$user" ] || [ "$user" = "$pair" ] || [ -z "$password" ]; then
    echo "mosquitto-init: \"$user\" in K3SF_MQTT_USERS is not user:password" >&2
    exit 1
  fi
  mosquitto_passwd -b "$passwd" "$user" "$password"
  echo "mosquitto-init: user $user" >&2
done
set +f
# Mosquitto drops to its own user before reading these files.
chown mosquitto:mosquitto "$passwd" /etc/mosquitto/k3s-fleet.acl 2>/dev/null || true

if [ -n "${K3SF_MQTT_PORT:-}" ] && [ "$K3SF_MQTT_PORT" != 1883 ]; then
  sed "s/^listener 1883 /listener $K3SF_MQTT_PORT /" "$conf" >/etc/mosquitto/k3s-fleet.conf
  conf=/etc/mosquitto/k3s-fleet.conf
fi
exec mosquitto -c "$conf"
