#!/bin/sh
# RabbitMQ entrypoint for the air-gapped lab image. Honours the upstream image's
# RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS so one service spec drives either image.
set -eu
export HOME=/var/lib/rabbitmq
user="${RABBITMQ_DEFAULT_USER:-guest}"
pass="${RABBITMQ_DEFAULT_PASS:-guest}"
mkdir -p /etc/rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
cat > /etc/rabbitmq/rabbitmq.conf <<CONF
loopback_users = none
listeners.tcp.default = 5672
default_user = $user
default_pass = $pass
log.console = true
log.file = false
CONF
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq /etc/rabbitmq
if [ "${1:-}" = "rabbitmq-server" ]; then
    exec runuser -u rabbitmq -- "$@"
fi
exec "$@"
