#!/bin/sh
# Appends "action fqdn value" to $RECORD_LOG; fails when the value is "fail".
[ "$3" = "fail" ] && { echo "backend said no" >&2; exit 3; }
echo "$1 $2 $3" >> "$RECORD_LOG"
