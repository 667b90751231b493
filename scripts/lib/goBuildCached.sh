# Sourced by the install scripts that build a Go program from the Go module proxy into the cache
# (install-ferretdb.sh, install-mailpit.sh).
#
#   go_build_cached NAME BIN HINT BUILD_FUNCTION
#
# Builds BIN once, if it is not there yet: checks that Go is installed (else says so, with HINT, and
# exits), calls BUILD_FUNCTION with an empty temporary directory and the path to write the binary
# to, then moves the binary into place in one step (an interrupted build leaves no half-written
# BIN). Prints BIN's path either way.
go_build_cached() {
  local name="$1" bin="$2" hint="$3" build_function="$4"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || { echo "$name needs Go to build ($hint)" >&2; exit 1; }
    echo "building $name into $bin" >&2
    mkdir -p "$(dirname "$bin")"
    local build
    build="$(mktemp -d)"
    # shellcheck disable=SC2064 # the directory is fixed now
    trap "rm -rf '$build'" EXIT
    "$build_function" "$build" "$bin.$$"
    mv "$bin.$$" "$bin"
  fi
  echo "$bin"
}
