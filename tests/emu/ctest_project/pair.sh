#!/bin/sh
# A shell script test calling two of the test programs (run natively by sh;
# the programs it starts are traced).
set -e
"$1" 4
"$2" 91
