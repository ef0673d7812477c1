#!/usr/bin/env bash
# Writes hwcov(1), gzip-compressed, from the built hwcov's own help texts:
# help2man turns `hwcov --help` and `hwcov --version` into the page, and every
# command's `hwcov <command> --help` becomes a subsection of COMMANDS, one
# tagged paragraph per option. Run by the build (cmake/Packaging.cmake).
#   tools/gen_manpage.sh build/tools/hwcov build/man/hwcov.1.gz
set -euo pipefail
hwcov=$1
out=$2
commands=(run record report merge decode dump)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Boost.Program_options' layout: a "<usage>:" caption, then per option
# "  TERM   DESCRIPTION" with the description in a fixed column (that of the
# first option, --help) and wrapped lines indented to it.
options_to_roff() {
  awk '
    function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); return s }
    function flush() { if (term != "") { print ".TP"; print "\\fB" esc(term) "\\fR"; print esc(desc) } term = "" }
    NR == 1 { sub(/:$/, ""); print ".SS \"" esc($0) "\""; next }
    col == 0 && /^  -/ { col = index($0, "show this help") }
    /^  [^ ]/ {
      flush()
      term = substr($0, 3, col - 3); desc = substr($0, col)
      sub(/ +$/, "", term); sub(/ +$/, "", desc)
      next
    }
    /^ +[^ ]/ { line = $0; sub(/^ +/, "", line); sub(/ +$/, "", line); desc = desc " " line }
    END { flush() }
  '
}

{
  echo "[COMMANDS]"
  for c in "${commands[@]}"; do "$hwcov" "$c" --help | options_to_roff; done
  cat <<'EOF'
[EXIT STATUS]
\fBhwcov run\fR exits with the traced program's status (128+N when a signal N
killed it). 70: hwcov itself failed (a one-line message on standard error), a
status no common test driver uses. 3: a \fB\-\-fail\-under\-*\fR threshold,
\fB\-\-fail\-under\-diff\fR included, was not met.
[ENVIRONMENT]
.TP
\fBHWCOV_QEMU\fR
the qemu\-x86_64 the emu backend runs (default, or when empty: the one on PATH).
.TP
\fBHWCOV_QEMU_PLUGIN\fR
hwcov's QEMU plugin (default, or when empty: found relative to the hwcov
executable). A value naming no file is an error.
[SEE ALSO]
.BR lcov (1),
.BR genhtml (1),
.BR gcovr (1),
.BR perf\-intel\-pt (1).
The user guide: /usr/share/doc/hwcov/user\-guide.md.
EOF
} >"$work/include.h2m"

mkdir -p "$(dirname "$out")"
help2man --no-info --section=1 \
  --name="code coverage from control-flow traces, without recompiling" \
  --include="$work/include.h2m" --output="$work/hwcov.1" "$hwcov"
gzip -9 -n -c "$work/hwcov.1" >"$out.tmp"
mv "$out.tmp" "$out"
