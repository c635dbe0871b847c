#!/bin/sh
# Runs against $OVERLAP_DIR. On start it marks itself running and appends to
# "counts" how many runs are running then, itself included; it then waits
# (at most about 5 s) until $BARRIER runs have started, logs its call to
# "calls", unmarks itself and fails on the value "fail".
dir=$OVERLAP_DIR
touch "$dir/run.$$"
n=0
for f in "$dir"/run.*; do
	[ -e "$f" ] && n=$((n + 1))
done
echo "$n" >> "$dir/counts"
echo "$$" >> "$dir/started"
i=0
while [ "$(wc -l < "$dir/started")" -lt "${BARRIER:-1}" ] && [ $i -lt 500 ]; do
	sleep 0.01
	i=$((i + 1))
done
echo "$1 $2 $3" >> "$dir/calls"
rm -f "$dir/run.$$"
if [ "$3" = "fail" ]; then
	echo "backend said no" >&2
	exit 3
fi
