#!/bin/sh
# What help2man runs: `mesoscaf ARGS` (the binary in MESOSCAF_MAN_BINARY) as any host would print it: a clean
# environment, so the builder's MESOSCAF_* variables change no default, and the default config file shown as
# ./mesoscaf.ini instead of the build directory's path.
set -eu
bin=${MESOSCAF_MAN_BINARY:?set MESOSCAF_MAN_BINARY to the mesoscaf binary}
cd /
env -i PATH=/usr/bin:/bin "$bin" "$@" |
  sed -e 's|^config file: /mesoscaf\.ini (the default, in the current directory.*$|config file: ./mesoscaf.ini (the default)|'
