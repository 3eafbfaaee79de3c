#!/bin/bash
# Captures the golden cases in cases.txt from a real docker: the input the
# CLI formats (inspect JSON, or the ps/images rows) and its exact stdout,
# stderr and exit status. Run with DOCKER_HOST pointing at a dockerd that
# has the objects cases.txt names (see README.md); writes one NNN.txt per case.
set -u
DOCKER=${DOCKER:-docker}
here=$(cd "$(dirname "$0")" && pwd)
n=0
while IFS=$'\t' read -r mode targets template; do
  [ -z "$mode" ] && continue
  [ "$targets" = - ] && targets=
  case "$mode" in \#*) continue ;; esac
  n=$((n + 1))
  f=$(printf '%s/%03d.txt' "$here" "$n")
  case "$mode" in
    inspect-*) input=$($DOCKER inspect $targets) ;;
    ps) input=$($DOCKER ps -a --no-trunc=false --format '{{json .}}' | while read -r row; do
          id=$(echo "$row" | jq -r .ID)
          labels=$($DOCKER inspect -f '{{json .Config.Labels}}' "$id")
          echo "$row" | jq -c --argjson l "$labels" '. + {Label: ($l // {})}'
        done | jq -s -c .) ;;
    images) input=$($DOCKER images --format '{{json .}}' | jq -s -c .) ;;
  esac
  case "$mode" in
    inspect-*) $DOCKER inspect -f "$template" $targets >/tmp/golden.out 2>/tmp/golden.err; rc=$? ;;
    ps) $DOCKER ps -a --format "$template" >/tmp/golden.out 2>/tmp/golden.err; rc=$? ;;
    images) $DOCKER images --format "$template" >/tmp/golden.out 2>/tmp/golden.err; rc=$? ;;
  esac
  {
    echo "# $($DOCKER version -f '{{.Client.Version}}') CLI, dockerd $($DOCKER version -f '{{.Server.Version}}'): $mode $targets"
    echo "-- mode --"; echo "$mode"
    echo "-- template --"; printf '%s\n' "$template"
    echo "-- input --"; echo "$input" | jq -c .
    echo "-- stdout --"; cat /tmp/golden.out; echo
    echo "-- stderr --"; cat /tmp/golden.err; echo
    echo "-- exit --"; echo "$rc"
  } >"$f"
done <"$here/cases.txt"
rm -f /tmp/golden.out /tmp/golden.err
