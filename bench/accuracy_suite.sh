#!/usr/bin/env bash
# bench/accuracy_suite.sh [BUILD_DIR] [WORK_DIR]: hwcov against gcov and
# `llvm-cov gcov` on real projects' own test suites (docs/accuracy.md,
# "Accuracy suite"). Not a test: slow (minutes), needs the network once.
#
# For each project (Debian source package), compiler and optimisation level:
#   1. builds the source twice with CMake: "OPT -g --coverage" and "OPT -g";
#   2. runs the project's ctest suite natively on the --coverage build, then
#      gcov (gcc) or `llvm-cov gcov` (clang) on its .gcno files;
#   3. runs every test of the same suite on the plain build, each traced by
#      `hwcov run --backend emu` (TRACER=soft for the soft backend), and one
#      `hwcov report --lcov` over all the traces;
#   4. compares the two line by line over the project's own sources
#      (bench/accuracy_compare: lines both tools instrument, executed or not)
#      and prints every difference, then one summary row per case.
#
#   PROJECTS="cjson expat json-c"  COMPILERS="gcc clang"  OPTS="-O2 -O0"  TRACER=emu
#   ENTROPY=fixed (default: both runs preload bench/programs/fixed_entropy.c,
#   so the programs' arc4random/getrandom give the same bytes in both runs and
#   the two tools see one execution) or ENTROPY=system
#
# Sources: deb-src is not configured on this machine, so the script writes a
# private deb-src list (same URIs and suites as /etc/apt/sources.list.d/*.sources)
# under WORK_DIR/apt and runs apt-get update/source against it only; the
# system's apt configuration is not touched. A package whose security-suite
# version is gone from the mirror is fetched from the release suite.
set -euo pipefail

build=$(realpath "${1:-build}")
work=$(realpath -m "${2:-/tmp/hwcov-accuracy}")
hwcov="$build/tools/hwcov"
compare="$build/bench/accuracy_compare"
read -r -a projects <<< "${PROJECTS:-cjson expat json-c}"
read -r -a compilers <<< "${COMPILERS:-gcc clang}"
read -r -a opts <<< "${OPTS:--O2 -O0}"
tracer=${TRACER:-emu}
for tool in "$hwcov" "$compare"; do
  [[ -x $tool ]] || { echo "accuracy_suite: $tool missing (build hwcov and accuracy_compare)" >&2; exit 2; }
done
mkdir -p "$work"
# json-c's test scripts run each test program under valgrind when it is
# installed: valgrind (a system binary, run natively) executes the program
# on its own JIT, where no tracer can follow it, and gcov's run would differ.
export USE_VALGRIND=0

# Both runs of a suite (gcov's, hwcov's) with the same entropy: Expat salts
# its hash tables randomly, and different salts take different paths.
entropy=()
case ${ENTROPY:-fixed} in
  fixed)
    cc -shared -fPIC -O2 -o "$work/fixed_entropy.so" "$(dirname "$0")/programs/fixed_entropy.c"
    entropy=(env "LD_PRELOAD=$work/fixed_entropy.so") ;;
  system) entropy=(env) ;;
  *) echo "accuracy_suite: ENTROPY must be fixed or system, not ${ENTROPY}" >&2; exit 2 ;;
esac

# ------------------------------------------------------------------ sources

apt_private() {
  apt-get -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/apt/parts" \
    -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache" "$@"
}

fetch_sources() {  # PACKAGE -> prints the unpacked source directory
  local package=$1 dir
  dir=$(find "$work/src/" -maxdepth 1 -type d -name "$package-[0-9]*" 2>/dev/null | head -1)
  if [[ -z $dir ]]; then
    if [[ ! -d $work/apt/lists ]]; then
      mkdir -p "$work/apt/parts" "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
      for f in /etc/apt/sources.list.d/*.sources; do
        sed 's/^Types: deb$/Types: deb-src/' "$f" > "$work/apt/parts/$(basename "$f")"
      done
      apt_private update > "$work/apt/update.log" 2>&1 ||
        { echo "accuracy_suite: apt-get update failed (see $work/apt/update.log)" >&2; exit 1; }
    fi
    mkdir -p "$work/src"
    local release
    release=$(awk '/^Suites:/ {print $2; exit}' "$work"/apt/parts/*.sources)
    (cd "$work/src" && { apt_private source "$package" > "fetch-$package.log" 2>&1 ||
       apt_private source "$package/$release" >> "fetch-$package.log" 2>&1; }) ||
      { echo "accuracy_suite: apt-get source $package failed (see $work/src/fetch-$package.log)" >&2; exit 1; }
    dir=$(find "$work/src/" -maxdepth 1 -type d -name "$package-[0-9]*" | head -1)
  fi
  realpath "$dir"
}

# Per project: CMake options, and which sources are the project's own
# (path prefix below the source directory; tests and test frameworks out).
cmake_options() {
  case $1 in
    cjson) echo "-DENABLE_CJSON_UTILS=ON -DENABLE_CJSON_TEST=ON -DENABLE_CUSTOM_COMPILER_FLAGS=OFF" ;;
    expat) echo "-DEXPAT_BUILD_TESTS=ON -DEXPAT_BUILD_EXAMPLES=OFF -DEXPAT_BUILD_TOOLS=OFF -DEXPAT_BUILD_DOCS=OFF" ;;
    json-c) echo "-DBUILD_TESTING=ON -DDISABLE_WERROR=ON" ;;
    *) echo "accuracy_suite: no build recipe for project $1" >&2; exit 2 ;;
  esac
}
cmake_dir() {  # where the project's CMakeLists.txt is, below its source
  case $1 in expat) echo expat ;; *) echo . ;; esac
}
own_sources() {  # prefix of the compared sources, below the source directory
  case $1 in expat) echo expat/lib/ ;; *) echo "" ;; esac
}
excluded_sources() {  # substrings of compared paths to leave out
  case $1 in
    cjson) echo "/tests/ /fuzzing/ /test.c" ;;
    json-c) echo "/tests/ /apps/" ;;
    *) echo "/tests/" ;;
  esac
}

# ------------------------------------------------------------------ building

configure_and_build() {  # PROJECT SRC DIR CC CXX CFLAGS
  local project=$1 src=$2 dir=$3 cc=$4 cxx=$5 cflags=$6
  local -a extra
  read -r -a extra <<< "$(cmake_options "$project")"
  if [[ ! -f $dir/.built ]]; then
    rm -rf "$dir"
    # C++ too: Expat's runtestspp is C++, and clang's --coverage objects need
    # clang's profile runtime at link time.
    CC=$cc CXX=$cxx cmake -S "$src/$(cmake_dir "$project")" -B "$dir" -G Ninja \
      -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$cflags" -DCMAKE_CXX_FLAGS="$cflags" \
      -DCMAKE_EXE_LINKER_FLAGS="$cflags" \
      -DCMAKE_SHARED_LINKER_FLAGS="$cflags" "${extra[@]}" > "$dir.configure.log" 2>&1 ||
      { echo "accuracy_suite: configuring $dir failed (see $dir.configure.log)" >&2; exit 1; }
    # Debian's expat 2.5.0 CVE-2024-8176 patch tests "#if XML_DTD == 1", which
    # the CMake build defines empty (autotools defines it 1).
    [[ $project != expat ]] || sed -i 's/^#define XML_DTD$/#define XML_DTD 1/' "$dir/expat_config.h"
    nice -n 10 ninja -C "$dir" > "$dir.build.log" 2>&1 ||
      { echo "accuracy_suite: building $dir failed (see $dir.build.log)" >&2; exit 1; }
    touch "$dir/.built"
  fi
}

# The suite's tests as "WORKING_DIRECTORY<TAB>ARGV..." lines, from ctest.
list_tests() {
  (cd "$1" && ctest --show-only=json-v1) | python3 -c '
import json, sys
for test in json.load(sys.stdin)["tests"]:
    cwd = next((p["value"] for p in test.get("properties", [])
                if p["name"] == "WORKING_DIRECTORY"), ".")
    print("\t".join([cwd] + test["command"]))'
}

# ------------------------------------------------------------------ one case

run_case() {  # PROJECT COMPILER OPT
  local project=$1 compiler=$2 opt=$3 src cc cxx gcov
  src=$(fetch_sources "$project")
  case $compiler in
    gcc) cc=gcc; cxx=g++; gcov=(gcov) ;;
    clang) cc=clang; cxx=clang++; gcov=(llvm-cov gcov) ;;
  esac
  local case_dir="$work/$project/$compiler$opt"
  mkdir -p "$case_dir"
  configure_and_build "$project" "$src" "$case_dir/coverage" "$cc" "$cxx" "$opt -g --coverage"
  configure_and_build "$project" "$src" "$case_dir/plain" "$cc" "$cxx" "$opt -g"

  # Reference: the suite on the --coverage build, then gcov.
  find "$case_dir/coverage" -name '*.gcda' -delete
  (cd "$case_dir/coverage" && "${entropy[@]}" ctest > "$case_dir/ctest-coverage.log" 2>&1) ||
    echo "  note: some tests of the --coverage build fail (see $case_dir/ctest-coverage.log)"
  # One directory per object: the .gcov files of a source built into several
  # objects would overwrite each other (accuracy_compare adds them up).
  rm -rf "$case_dir/gcov" && mkdir -p "$case_dir/gcov"
  local i=0 gcno
  while read -r gcno; do
    i=$((i + 1))
    mkdir -p "$case_dir/gcov/$i"
    (cd "$case_dir/gcov/$i" && "${gcov[@]}" -b -c "$gcno" > gcov.log 2>&1)
  done < <(find "$case_dir/coverage" -name '*.gcno' | sort)

  # hwcov: every test of the same suite on the plain build, traced.
  rm -rf "$case_dir/traces" && mkdir -p "$case_dir/traces"
  local n=0 failed=0 cwd
  local start=$SECONDS
  while IFS=$'\t' read -r -a test; do
    cwd=${test[0]}
    n=$((n + 1))
    # --root: the sources are outside the project the tests run in.
    (cd "$cwd" && "${entropy[@]}" "$hwcov" run --backend "$tracer" --only "$case_dir/plain/*" --root "$src" \
       -o "$case_dir/traces/$n.data" -- "${test[@]:1}" > "$case_dir/traces/$n.log" 2>&1) ||
      failed=$((failed + 1))
  done < <(list_tests "$case_dir/plain")
  local traced=$((SECONDS - start))
  [[ $failed == 0 ]] || echo "  note: $failed of $n traced tests exit non-zero (logs in $case_dir/traces)"
  "$hwcov" report --root "$src" --lcov "$case_dir/hwcov.info" "$case_dir"/traces/*.data \
    > "$case_dir/report.log" 2>&1 ||
    { echo "accuracy_suite: hwcov report failed (see $case_dir/report.log)" >&2; exit 1; }
  local -a excluded
  read -r -a excluded <<< "$(excluded_sources "$project")"
  "$compare" "$case_dir/gcov" "$case_dir/hwcov.info" "$src/$(own_sources "$project")" \
    "${excluded[@]}" > "$case_dir/compare.txt"
  sed -n '1,200p' "$case_dir/compare.txt" | grep -v '^\[figures\]' | cut -c1-2000
  read -r _ _ agree total _ ran_only _ b_agree b_total < <(grep '^\[figures\]' "$case_dir/compare.txt")
  printf '%-8s %-6s %-4s %6s/%-6s %7s%% %5s %7s%% %6s/%-6s %7s%% %4s tests %4ss\n' \
    "$project" "$compiler" "$opt" "$agree" "$total" \
    "$(echo "scale=2; 100*$agree/$total" | bc)" "$ran_only" \
    "$(echo "scale=3; 100*$ran_only/$total" | bc)" "$b_agree" "$b_total" \
    "$(echo "scale=1; 100*$b_agree/$b_total" | bc)" "$n" "$traced" >> "$work/summary.txt"
}

rm -f "$work/summary.txt"
for project in "${projects[@]}"; do
  for compiler in "${compilers[@]}"; do
    for opt in "${opts[@]}"; do
      echo "== $project $compiler $opt"
      run_case "$project" "$compiler" "$opt"
    done
  done
done
echo
echo "project  cc     opt   lines agree      share  hwcov-only-ran  branch lines   share  suite"
cat "$work/summary.txt"
