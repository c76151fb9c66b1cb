#!/usr/bin/env bats
# What `cmake --install` (and so the .deb) carries: the program, its man page and its bash and zsh
# completions, all but the program written from `sparkify --help-all` and so listing every option.

load helpers

# The build directory of $SPARKIFY (the binary sits at its top), installed under $TMP/root.
install_build() {
  BUILD=$(dirname "$SPARKIFY")
  [ -f "$BUILD/CMakeCache.txt" ] || skip "$SPARKIFY is not in a CMake build directory"
  command -v cmake >/dev/null || skip "cmake is not installed"
  DESTDIR="$TMP/root" cmake --install "$BUILD" --prefix /usr >/dev/null
  ROOT="$TMP/root/usr"
  MAN="$ROOT/share/man/man1/sparkify.1"
  COMPLETION="$ROOT/share/bash-completion/completions/sparkify"
  ZSH_COMPLETION="$ROOT/share/zsh/vendor-completions/_sparkify"
}

# Every option name of --help-all: "--long" and "-s", one a line.
option_names() {
  "$SPARKIFY" --help-all | awk -F '\t' '$1 == "option" { if ($3 != "") print $3; print $4 }' |
    sort -u
}

# COMPREPLY, one word a line, after completing the words given (the last is the one completed).
complete_words() {
  # shellcheck disable=SC1090
  source "$COMPLETION"
  COMP_WORDS=(sparkify "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _sparkify || true
  printf '%s\n' "${COMPREPLY[@]}"
}

@test "cmake --install puts the program, its man page and its completions under the prefix" {
  install_build
  [ -x "$ROOT/bin/sparkify" ]
  [ -s "$MAN" ]
  [ -s "$COMPLETION" ]
  [ -s "$ZSH_COMPLETION" ]
  [ -f "$ROOT/share/doc/sparkify/LICENSE" ]
  run "$ROOT/bin/sparkify" --version
  [ "$status" -eq 0 ]
  head -n 1 "$MAN" | grep -q '^\.TH SPARKIFY 1 '
}

@test "the man page has the sections of a man page and a section per command" {
  install_build
  for section in NAME SYNOPSIS DESCRIPTION "GLOBAL OPTIONS" COMMANDS FILES ENVIRONMENT \
    "EXIT STATUS" "SEE ALSO"; do
    grep -qx "\\.SH $section" "$MAN" || { echo "no section $section" >&2; return 1; }
  done
  "$SPARKIFY" --help-all | awk -F '\t' '$1 == "command" { print $2 }' | while read -r command; do
    grep -q "^\\.SS ${command//-/\\\\-}" "$MAN" || { echo "no section for $command" >&2; return 1; }
  done
  grep -q 'dwh\.cfg' "$MAN"
  grep -q 'SPARKIFY_TARGET' "$MAN"
}

@test "every option of every command in --help-all is in the man page" {
  install_build
  if command -v groff >/dev/null; then
    page=$(groff -man -Tascii -P -c -P -b -P -u "$MAN" 2>/dev/null)
  else
    page=$(sed 's/\\-/-/g' "$MAN") # the roff itself, its minus signs read as typed
  fi
  missing=$(option_names | while read -r name; do
    grep -qe "$name\\b" <<<"$page" || echo "$name"
  done)
  test_cmp "" "$missing"
}

@test "every option of every command in --help-all is among the command's completions" {
  install_build
  # shellcheck disable=SC1090
  source "$COMPLETION"
  missing=$("$SPARKIFY" --help-all | awk -F '\t' '$1 == "option" { print $2 "\t" $3 "\t" $4 }' |
    while IFS=$'\t' read -r command short long; do
      case "$command" in '*' | sparkify) command='' ;; esac
      words=" $(_sparkify_options "$command") "
      for name in $short $long; do
        [[ $words == *" $name "* ]] || echo "$command: $name"
      done
    done)
  test_cmp "" "$missing"
}

@test "the completion completes commands, subcommands, options and an option's words" {
  install_build
  test_cmp "etl" "$(complete_words et)"
  test_cmp "$(printf '%s\n' create-tables cluster check)" "$(complete_words c | sort -r)"
  test_cmp "$(printf '%s\n' create delete)" "$(complete_words cluster '' | grep -v status)"
  test_cmp "status" "$(complete_words cluster st)"
  test_cmp "$(printf '%s\n' --log-data --log-jsonpath)" "$(complete_words etl --lo)"
  test_cmp "--s3-read-only-access" "$(complete_words cluster create --s3-r)"
  test_cmp "--write" "$(complete_words query --w)"
  test_cmp "$(printf '%s\n' table csv json html)" "$(complete_words report --format '')"
  test_cmp "$(printf '%s\n' table csv json)" "$(complete_words query -f '')"
  test_cmp "$(printf '%s\n' text json)" "$(complete_words cluster status --format '')"
  test_cmp "$(printf '%s\n' always auto)" "$(complete_words --progress a | sort)"
  test_cmp "--transform=sql" "$(complete_words etl --transform=s | sed 's/^/--transform=/')"
  # Global options before the command, and an option's value skipped on the way to it.
  test_cmp "--version" "$(complete_words --vers)"
  test_cmp "etl" "$(complete_words --target sqlite:x.db -q e | grep etl)"
  test_cmp "--full-refresh" "$(complete_words --config dwh.cfg etl --fu)"
  # A file name where the option takes a file.
  touch events.json
  test_cmp "events.json" "$(complete_words etl --log-data ev)"
}

# zsh_complete STATE WORD...: runs the zsh completion with the words as zsh's _arguments leaves
# them in STATE (command: before the command; argument: from the command on), _arguments and
# _describe replaced by functions that print what they are given: the candidates of _describe,
# then (in state argument) the specs of the last _arguments, one a line.
zsh_complete() {
  FILE="$ZSH_COMPLETION" zsh -f -c '
    _arguments() { calls=("$@"); state=$STATE; return 1 }
    _describe() { print -rl -- "${(@P)2}"; calls=() }
    STATE=$1; shift; words=("$@"); CURRENT=$#
    source "$FILE"
    [[ $STATE == argument ]] && (($#calls)) && print -rl -- "${calls[@]}"
    true' zsh "$@"
}

@test "the zsh completion offers the commands, cluster's subcommands and each command's options" {
  install_build
  command -v zsh >/dev/null || skip "zsh is not installed"
  zsh -n "$ZSH_COMPLETION"
  test_cmp "$("$SPARKIFY" --help-all | awk -F '\t' '$1 == "command" && $2 !~ / / { print $2 ":" $3 }')" \
    "$(zsh_complete command '')"
  test_cmp "$(printf '%s\n' create status delete)" "$(zsh_complete argument cluster '' | cut -d: -f1)"
  zsh_complete argument etl --lo | grep -qxF -- '--log-data=[the event logs (JSON Lines, one file per day)]:SRC:_files'
  zsh_complete argument report -f '' | grep -qx -- '--format=\[.*\]:FORMAT:(table csv json html)'
  zsh_complete argument cluster create --s3 | grep -q -- '^--s3-read-only-access\['
  ! zsh_complete argument cluster create --s3 | grep -q -- '^--log-data'
  # Every option of every command, with the global ones after it.
  missing=$("$SPARKIFY" --help-all | awk -F '\t' '$1 == "option" { print $2 "\t" $3 "\t" $4 }' |
    while IFS=$'\t' read -r command short long; do
      own=$command
      case "$command" in '*' | sparkify) command='etl' ;; esac
      # shellcheck disable=SC2086
      specs=$(zsh_complete argument $command '')
      # sparkify's own options (-V, --version) come before the command, in the top-level
      # _arguments (and a tab-separated empty short name is no field for read: a long name
      # alone lands in $short).
      [ "$own" = sparkify ] && specs=$(grep -o "'-[-A-Za-z0-9]*[=[]" "$ZSH_COMPLETION")
      for name in $short $long; do
        grep -q -- "^'*$name[=[]" <<<"$specs" || echo "$command: $name"
      done
    done)
  test_cmp "" "$missing"
}
