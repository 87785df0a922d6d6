#!/bin/sh
# Sets up the analytics profile once Elasticsearch and Kafka Connect answer:
# the ingest pipeline (position -> geo_point in the configured order), the
# index template, and the Elasticsearch sink connector.
set -eu
ES=${ES:-http://elasticsearch:9200}
CONNECT=${CONNECT:-http://connect:8083}
DIR=$(dirname "$0")

wait_for() {
	n=0
	until curl -fsS -o /dev/null "$1"; do
		n=$((n + 1))
		if [ "$n" -gt 120 ]; then
			echo "init: $1 did not answer" >&2
			exit 1
		fi
		sleep 2
	done
}

wait_for "$ES"
case "${ROUTESIM_POSITION_ORDER:-lnglat}" in
latlng) order='"lat": 0, "lon": 1' ;;
*) order='"lat": 1, "lon": 0' ;;
esac
sed "s/\"lat\": 0, \"lon\": 1/$order/" "$DIR/ingest-pipeline.json" |
    curl -fsS -X PUT -H 'Content-Type: application/json' --data-binary @- \
    "$ES/_ingest/pipeline/routesim-position"
echo
curl -fsS -X PUT -H 'Content-Type: application/json' \
    --data-binary @"$DIR/index-template.json" "$ES/_index_template/routesim"
echo
wait_for "$CONNECT/connectors"
curl -fsS -X PUT -H 'Content-Type: application/json' \
    --data-binary @"$DIR/elasticsearch-sink.json" \
    "$CONNECT/connectors/routesim-elasticsearch/config"
echo
echo "init: analytics ready"
