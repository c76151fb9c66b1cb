# Sourced by demo.sh and test.sh: `quietly CMD...` runs a build step with its output kept aside,
# and shows that output (cmake's own words) and stops the script when the step fails.
quietly_log=$(mktemp)
trap 'rm -f "$quietly_log"' EXIT
quietly() {
  if ! "$@" >"$quietly_log" 2>&1; then
    cat "$quietly_log" >&2
    echo "$(basename "$0"): failed: $*" >&2
    exit 1
  fi
}
