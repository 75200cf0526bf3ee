# Sourced by the benchmarks that need a ClickHouse server (fleet.sh, stream.sh): starts Debian's clickhouse-server
# (18.16) as the clickhouse user on free ports of 127.0.0.1 with its data under a temporary directory, waits until it
# answers, and stops it and removes the directory when the script exits. Sets url (its HTTP URL), ch (the directory)
# and server (its pid).
ch=$(mktemp -d /tmp/xenoprof-bench-ch.XXXXXX)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=$(port); tcp=$(port); inter=$(port)
mkdir -p "$ch/data" "$ch/tmp" "$ch/log"
cat > "$ch/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$ch/log/server.log</log><errorlog>$ch/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host><http_port>$http</http_port><tcp_port>$tcp</tcp_port><interserver_http_port>$inter</interserver_http_port>
  <path>$ch/data/</path><tmp_path>$ch/tmp/</tmp_path><users_config>$ch/users.xml</users_config>
  <default_profile>default</default_profile><default_database>default</default_database><mark_cache_size>5368709</mark_cache_size>
</yandex>
XML
cat > "$ch/users.xml" <<XML
<?xml version="1.0"?>
<yandex><profiles><default></default></profiles>
<users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
<quotas><default></default></quotas></yandex>
XML
chown -R clickhouse: "$ch"
setpriv --reuid=clickhouse --regid=clickhouse --init-groups /usr/sbin/clickhouse-server --config-file="$ch/config.xml" >/dev/null 2>&1 & server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$ch"' EXIT
url=http://127.0.0.1:$http/
for i in $(seq 100); do curl -sf "$url?query=SELECT%201" >/dev/null && break; sleep 0.2; done
