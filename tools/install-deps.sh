#!/usr/bin/env bash
# Installs the Debian packages hwcov needs to build, test and run. Idempotent:
# packages already present are skipped, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libipt-dev libelf-dev libdwarf-dev libzydis-dev
  libboost-program-options-dev libgtest-dev
  linux-perf lcov binutils gcc g++
  zlib1g-dev    # the mapper inflates compressed debug sections
  clang llvm    # mapper accuracy tests: clang builds, llvm-cov gcov as their reference
  libclang-rt-14-dev  # libFuzzer for -DHWCOV_FUZZ=ON (tests/fuzz, docs/robustness.md)
  qemu-user     # the emu backend runs programs under qemu-x86_64 with hwcov's TCG plugin
  libxml2-utils # tests/report: xmllint validates the Cobertura XML against coverage-04.dtd
  gcovr         # tests/report: gcovr >= 8 reads the Cobertura XML back (Debian 12 has 5.2: skipped)
  chromium      # tests/report: the HTML report rendered in headless Chromium
  chromium-driver  # tests/report: chromedriver clicks the HTML tables' sort headers
  curl          # tests/report: the test talks to chromedriver's WebDriver HTTP API
  fonts-dejavu-core  # text in the rendered HTML screenshots
  bc            # bench/soft_filter.sh computes its ratios with bc
  git           # the default source root is the git top level; tests use scratch repositories
  # tests/report: lcov 2.3.2 and gcovr 8.6 from ../shared/oracles run with these
  libcapture-tiny-perl libdatetime-perl libjson-xs-perl libtimedate-perl
  python3-jinja2 python3-lxml python3-pygments python3-colorlog
  man-db groff-base  # tools/package_test.sh: `man -l` renders the installed man page
  help2man      # the man page is generated from hwcov's own --help texts
  lld           # tests/intel_pt: an lld-linked program (its code shares pages with data)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "hwcov: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
echo "hwcov: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# On a throw-away CI machine, man-db need not rebuild its index after every
# package (its trigger is a large part of installing these packages).
if [ "${HWCOV_CI:-0}" = 1 ]; then
  echo 'man-db man-db/auto-update boolean false' | "${as_root[@]}" debconf-set-selections
  "${as_root[@]}" rm -f /var/lib/man-db/auto-update  # where man-db is installed already
fi
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
