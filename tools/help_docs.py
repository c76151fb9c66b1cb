#!/usr/bin/env python3
"""help_docs.py - the man page sparkify(1), bash and zsh completion, from `sparkify --help-all`.

Run at build time on the binary just built (CMakeLists.txt), so that the man page and the
completion list exactly the options the option tables declare: --help, the parser, the man page
and the completion all come from one declaration. The rows' format is in src/cli.h. What the
tables do not hold (the description, FILES, ENVIRONMENT, EXIT STATUS) is written here.

    help_docs.py SPARKIFY --man OUT.1 --bash OUT --zsh _OUT
"""
import argparse
import os
import subprocess
import sys
from collections import OrderedDict


class Option:
    def __init__(self, fields):
        (self.short, self.long, self.value, words, self.takes, self.help) = fields
        self.words = words.split() if words else []

    def names(self):
        return [n for n in (self.short, self.long) if n]


class Command:
    def __init__(self, name, summary):
        self.name, self.summary = name, summary
        self.operand = None
        self.items = []  # ("group", heading) or ("option", Option)

    def options(self):
        return [o for kind, o in self.items if kind == "option"]


def read_rows(text):
    """The commands in their order; "*" (global) and "sparkify" (before the command) first."""
    commands = OrderedDict()
    for n in ("*", "sparkify"):
        commands[n] = Command(n, "")
    for line in text.splitlines():
        fields = line.split("\t")
        kind, name = fields[0], fields[1]
        if kind == "command":
            commands[name] = Command(name, fields[2])
        elif kind == "operand":
            commands[name].operand = fields[2]
        elif kind == "group":
            commands[name].items.append(("group", fields[2]))
        elif kind == "option":
            if len(fields) != 8:
                sys.exit(f"help_docs.py: an option row of {len(fields)} fields: {line!r}")
            commands[name].items.append(("option", Option(fields[2:])))
        else:
            sys.exit(f"help_docs.py: a row of unknown kind {kind!r}: {line!r}")
    return commands


def subcommands(commands, name):
    return [c for c in commands if c.startswith(name + " ")]


# --- the man page ------------------------------------------------------------------------------


def roff(text):
    """Text escaped for roff: backslashes, hyphens kept as ASCII minus (so that an option can be
    searched and copied as it is typed), and a line never starting with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def option_tag(o):
    names = ", ".join(f"\\fB{roff(n)}\\fR" for n in o.names())
    if o.value:
        names += f" \\fI{roff(o.value)}\\fR"
    return names


def man_options(out, options_items):
    for kind, item in options_items:
        if kind == "group":
            out.append(".PP")
            out.append(f"\\fI{roff(item)}\\fR")
            continue
        out.append(".TP")
        out.append(option_tag(item))
        text = item.help
        # A range is worth saying; an enum's words are in the tag already.
        if item.takes and " from " in item.takes and item.takes not in text:
            text += f" ({item.takes})"
        out.append(roff(text))


ENVIRONMENT = [
    ("SPARKIFY_CONFIG", "the configuration file, when --config is not given"),
    ("SPARKIFY_TARGET", "the warehouse, when --target is not given"),
    ("SPARKIFY_LOG_DATA", "the event logs etl reads, when --log-data is not given"),
    ("SPARKIFY_SONG_DATA", "the song metadata etl reads, when --song-data is not given"),
    ("SPARKIFY_LOG_JSONPATH", "the JSONPaths file of etl, when --log-jsonpath is not given"),
    ("SPARKIFY_IAM_ROLE", "the role a Redshift cluster assumes to read S3 (--iam-role)"),
    ("SPARKIFY_STAGING", "the S3 prefix of a Redshift run's manifests and uploads (--staging)"),
    ("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, "
     "AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE",
     "the AWS credentials and profile of S3 sources and of cluster"),
    ("AWS_REGION, AWS_DEFAULT_REGION", "the AWS region (--s3-region, cluster --region)"),
    ("AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_IAM, "
     "AWS_ENDPOINT_URL_REDSHIFT, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL",
     "an S3-compatible store (--s3-endpoint), or the endpoints cluster calls"),
    ("PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE",
     "what a PostgreSQL target leaves out (libpq)"),
]


def man_page(commands, version):
    out = [
        '.TH SPARKIFY 1 "" "sparkify %s" "User Commands"' % roff(version),
        ".\\\" Generated from `sparkify --help-all` by tools/help_docs.py; do not edit.",
        ".nh",
        ".ad l",
        ".SH NAME",
        "sparkify \\- load Sparkify's song and event JSON into a star schema on SQLite, "
        "PostgreSQL or Redshift",
        ".SH SYNOPSIS",
        "\\fBsparkify\\fR [\\fIglobal options\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR] "
        "[\\fIOPERAND\\fR]",
        ".br",
        "\\fBsparkify\\fR \\fB\\-\\-version\\fR | \\fB\\-\\-help\\fR",
        ".SH DESCRIPTION",
        "\\fBsparkify\\fR extracts song metadata and event logs (local files, globs or S3 "
        "prefixes), models them into the star tables songplays, users, songs, artists and time, "
        "and loads them incrementally and atomically into an embedded SQLite file, a PostgreSQL "
        "database or an Amazon Redshift cluster. It also checks and reports on what it loaded, "
        "runs queries, generates synthetic data, and makes and removes the Redshift cluster.",
        ".PP",
        "Global options may come before or after the command name. Settings resolve as flag, "
        "then environment (SPARKIFY_*), then \\fIdwh.cfg\\fR, then the built-in default. "
        "\\fBsparkify \\fICOMMAND\\fB \\-\\-help\\fR describes a command.",
        ".PP",
        "Targets: \\fBsqlite:\\fIPATH\\fR, "
        "\\fBpostgresql://\\fIuser\\fB:\\fIpass\\fB@\\fIhost\\fB:\\fIport\\fB/\\fIdb\\fR "
        "(or a libpq keyword string), "
        "\\fBredshift://\\fIuser\\fB:\\fIpass\\fB@\\fIhost\\fB:5439/\\fIdb\\fR.",
        ".SH GLOBAL OPTIONS",
    ]
    man_options(out, commands["*"].items)
    man_options(out, commands["sparkify"].items)
    out.append(".SH COMMANDS")
    for name, c in commands.items():
        if name in ("*", "sparkify"):
            continue
        subs = subcommands(commands, name)
        label = name
        if " " not in name and subs:
            label += " " + "|".join(s.split(" ", 1)[1] for s in subs)
        if c.operand:
            label += " " + c.operand
        out.append(".SS " + roff(label))
        out.append(roff(c.summary[:1].upper() + c.summary[1:]) + ".")
        man_options(out, c.items)
    out.append(".SH FILES")
    out.append(".TP")
    out.append("\\fIdwh.cfg\\fR")
    out.append(
        "The configuration read from the current directory when present (or the file --config "
        "or SPARKIFY_CONFIG names): the warehouse ([CLUSTER]), the IAM role, S3 sources and "
        "staging. \\fBsparkify init\\fR writes a commented template; \\fBsparkify cluster "
        "create\\fR writes the cluster's settings into it.")
    out.append(".SH ENVIRONMENT")
    for name, text in ENVIRONMENT:
        out.append(".TP")
        out.append(f"\\fB{roff(name)}\\fR")
        out.append(roff(text[:1].upper() + text[1:]) + ".")
    out += [
        ".SH EXIT STATUS",
        ".TP", "\\fB0\\fR", "Success.",
        ".TP", "\\fB1\\fR",
        "The job failed: a source, the warehouse, a failed data-quality check.",
        ".TP", "\\fB2\\fR", "A usage or configuration error: nothing was done.",
        ".TP", "\\fB130\\fR, \\fB143\\fR", "Interrupted by SIGINT or SIGTERM.",
        ".SH SEE ALSO",
        "\\fBsqlite3\\fR(1), \\fBpsql\\fR(1), \\fBaws\\fR(1); the README in "
        "\\fI/usr/share/doc/sparkify\\fR.",
    ]
    return "\n".join(out) + "\n"


# --- bash completion ---------------------------------------------------------------------------


def quote(words):
    return "'" + " ".join(words).replace("'", "'\\''") + "'"


def bash_completion(commands):
    top = [n for n in commands if n not in ("*", "sparkify") and " " not in n]
    global_options = commands["*"].options()
    lines = [
        "# bash completion for sparkify. Generated from `sparkify --help-all` by",
        "# tools/help_docs.py; do not edit.",
        "",
        "# The options of COMMAND (\"\": before any command; \"cluster create\": a subcommand's).",
        "_sparkify_options() {",
        '    case "$1" in',
    ]
    before = [n for o in global_options + commands["sparkify"].options() for n in o.names()]
    lines.append(f"        '') echo {quote(before)} ;;")
    for name, c in commands.items():
        if name in ("*", "sparkify"):
            continue
        names = [n for o in c.options() + global_options for n in o.names()]
        lines.append(f"        {quote([name])}) echo {quote(names)} ;;")
    lines += ["    esac", "}", ""]

    lines += [
        "# What the value of option $2 of COMMAND $1 is: its words, \"@file\", \"@dir\", or",
        "# \"@value\" (anything); nothing when the option takes no value.",
        "_sparkify_value() {",
        '    case "$1|$2" in',
    ]
    rows = []
    global_rows = [o for o in global_options if o.value]
    for name, c in commands.items():
        prefix = "" if name == "sparkify" else name
        for o in c.options():
            if not o.value:
                continue
            if o.words:
                kind = " ".join(o.words)
            elif o.value in ("FILE", "SRC"):
                kind = "@file"
            elif o.value == "DIR":
                kind = "@dir"
            else:
                kind = "@value"
            pattern = "|".join("*" + quote(["|" + n]) if name == "*" else quote([prefix + "|" + n])
                               for n in o.names())
            rows.append(f"        {pattern}) echo {quote([kind])} ;;")
    # A command's own option before a global one of the same name.
    lines += rows[len(global_rows):] + rows[:len(global_rows)]
    lines += ["    esac", "}", ""]

    subs = {n: [s.split(" ", 1)[1] for s in subcommands(commands, n)] for n in top}
    lines += [
        "_sparkify() {",
        "    local cur=${COMP_WORDS[COMP_CWORD]} command='' i word kind value",
        "    COMPREPLY=()",
        "    # The command (and subcommand) named so far, skipping options and their values.",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        "        word=${COMP_WORDS[i]}",
        '        if [[ $word == -* ]]; then',
        '            [[ $word == *=* ]] && continue',
        '            kind=$(_sparkify_value "$command" "$word")',
        '            [[ -n $kind ]] && ((i++))',
        "            continue",
        "        fi",
        '        case "$command" in',
        f"            '') [[ \" \"{quote(top)}\" \" == *\" $word \"* ]] && command=$word ;;",
    ]
    for n, s in subs.items():
        if s:
            lines.append(
                f"            {quote([n])}) [[ \" \"{quote(s)}\" \" == *\" $word \"* ]] && "
                f'command="$command $word" ;;')
    lines += [
        "        esac",
        "    done",
        "    # The value of an option: after it, or after its '='.",
        "    local option=''",
        '    if [[ $cur == --*=* ]]; then',
        "        option=${cur%%=*}",
        "        value=${cur#*=}",
        "    elif ((COMP_CWORD > 1)) && [[ ${COMP_WORDS[COMP_CWORD - 1]} == -* ]]; then",
        "        option=${COMP_WORDS[COMP_CWORD - 1]}",
        "        value=$cur",
        "    fi",
        '    if [[ -n $option ]]; then',
        '        kind=$(_sparkify_value "$command" "$option")',
        '        case "$kind" in',
        "            '') ;;",
        '            @file) COMPREPLY=($(compgen -f -- "$value")); return ;;',
        '            @dir) COMPREPLY=($(compgen -d -- "$value")); return ;;',
        "            @value) return ;;",
        '            *) COMPREPLY=($(compgen -W "$kind" -- "$value")); return ;;',
        "        esac",
        "    fi",
        '    if [[ $cur == -* ]]; then',
        '        COMPREPLY=($(compgen -W "$(_sparkify_options "$command")" -- "$cur"))',
        "        return",
        "    fi",
        '    case "$command" in',
        f"        '') COMPREPLY=($(compgen -W {quote(top)} -- \"$cur\")) ;;",
    ]
    for n, s in subs.items():
        if s:
            lines.append(
                f"        {quote([n])}) COMPREPLY=($(compgen -W {quote(s)} -- \"$cur\")) ;;")
    for name, c in commands.items():
        if c.operand and "FILE" in c.operand:
            lines.append(f"        {quote([name])}) COMPREPLY=($(compgen -f -- \"$cur\")) ;;")
    lines += [
        "    esac",
        "}",
        "complete -o filenames -F _sparkify sparkify",
    ]
    return "\n".join(lines) + "\n"


# --- zsh completion ----------------------------------------------------------------------------


def zsh_spec(o):
    """An _arguments spec: "--format=[how it prints]:FORMAT:(table csv json)"."""
    text = o.help.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")
    if o.words:
        action = "(" + " ".join(o.words) + ")"
    elif o.value in ("FILE", "SRC"):
        action = "_files"
    elif o.value == "DIR":
        action = "_files -/"
    else:
        action = " "
    specs = []
    for name in o.names():
        spec = name + ("=" if o.value and name.startswith("--") else "") + f"[{text}]"
        if o.value:
            spec += f":{o.value}:{action}"
        specs.append(quote([spec]))
    return specs


def zsh_completion(commands):
    top = [n for n in commands if n not in ("*", "sparkify") and " " not in n]
    global_specs = [s for o in commands["*"].options() for s in zsh_spec(o)]
    lines = [
        "#compdef sparkify",
        "# zsh completion for sparkify. Generated from `sparkify --help-all` by",
        "# tools/help_docs.py; do not edit.",
        "",
        "local -a sparkify_global_options=(",
    ] + [f"    {s}" for s in global_specs] + [")", ""]

    def describe(names, what):
        items = [quote([n.split(" ")[-1] + ":" + commands[n].summary.replace(":", "\\:")])
                 for n in names]
        return [f"local -a {what}=("] + [f"    {i}" for i in items] + [")"]

    lines += describe(top, "sparkify_commands")
    lines += [
        "",
        "# The options of command (or \"cluster create\"), as _arguments specs.",
        "_sparkify_command_options() {",
        '    case "$1" in',
    ]
    for name, c in commands.items():
        if name in ("*", "sparkify") or not c.options():
            continue
        specs = [s for o in c.options() for s in zsh_spec(o)]
        lines.append(f"        {quote([name])}) reply=(" + " ".join(specs) + ") ;;")
    lines += [
        "        *) reply=() ;;",
        "    esac",
        "}",
        "",
        "local curcontext=$curcontext state line",
        "local -a reply",
        "_arguments -C $sparkify_global_options "
        + " ".join(s for o in commands["sparkify"].options() for s in zsh_spec(o))
        + " '1:command:->command' '*::argument:->argument' && return",
        'case $state in',
        "    command) _describe command sparkify_commands ;;",
        "    argument)",
        "        local command=$words[1]",
    ]
    for n in top:
        subs = subcommands(commands, n)
        if not subs:
            continue
        lines += [
            f"        if [[ $command == {n} ]]; then",
            "            if ((CURRENT == 2)); then",
        ]
        lines += ["                " + l for l in describe(subs, "sparkify_subcommands")]
        lines += [
            "                _describe subcommand sparkify_subcommands",
            "                return",
            "            fi",
            '            command="$command $words[2]"',
            "            shift words",
            "            ((CURRENT--))",
            "        fi",
        ]
    operand_lines = []
    for name, c in commands.items():
        if c.operand and "FILE" in c.operand:
            operand_lines.append(
                f"        [[ $command == {name} ]] && reply+=('1:{c.operand}:_files')")
    lines += [
        '        _sparkify_command_options "$command"',
    ] + operand_lines + [
        "        _arguments $sparkify_global_options $reply",
        "        ;;",
        "esac",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sparkify", help="the binary whose --help-all is read")
    parser.add_argument("--man", required=True, help="where to write the man page")
    parser.add_argument("--bash", required=True, help="where to write the bash completion")
    parser.add_argument("--zsh", required=True, help="where to write the zsh completion")
    args = parser.parse_args()
    rows = subprocess.run([args.sparkify, "--help-all"], check=True, capture_output=True,
                          text=True).stdout
    version = subprocess.run([args.sparkify, "--version"], check=True, capture_output=True,
                             text=True).stdout.split()[-1]
    commands = read_rows(rows)
    for path, text in ((args.man, man_page(commands, version)),
                       (args.bash, bash_completion(commands)),
                       (args.zsh, zsh_completion(commands))):
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
