# Local stand-in for the official eclipse-mosquitto:2 image, for machines that cannot pull images (CI here).
# Built by test/containers/build-base-images.sh: Debian bookworm's Mosquitto 2.0 on the local
# debian:bookworm-slim. Same layout as the official image where the project relies on it: /usr/sbin/mosquitto,
# mosquitto_passwd and the clients on PATH, a `mosquitto` user, /mosquitto/{config,data,log}, and the
# config at /mosquitto/config/mosquitto.conf.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends mosquitto mosquitto-clients \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /mosquitto/config /mosquitto/data /mosquitto/log \
 && printf 'persistence true\npersistence_location /mosquitto/data/\n' \
      > /mosquitto/config/mosquitto.conf \
 && chown -R mosquitto:mosquitto /mosquitto/data /mosquitto/log
EXPOSE 1883
CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
