#!/bin/sh
# A libtool-style wrapper: execs the real program in .libs/. With "wrapper"
# as the moment, the process group is stopped before the exec instead.
if [ "$1" = wrapper ]; then
  kill -"$2" 0
  sleep 5
fi
exec "$(dirname "$0")/.libs/stop_at" "$@"
