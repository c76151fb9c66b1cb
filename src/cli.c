/* cli.c - shared command-line plumbing (see cli.h).
 *
 * Everything printed from a message (the library's, a server's, a file name) goes through
 * cli_write_escaped, so that one error stays one line. The interrupt handler only writes and
 * _exits (both async-signal-safe); what it needs is prepared before the signal can come.
 */
#include "cli.h"

#include "buffer.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cli_word progress_modes[] = {
    {"auto", PROGRESS_AUTO}, {"always", PROGRESS_ALWAYS}, {"never", PROGRESS_NEVER}, {NULL, 0}};

#define CLI_ARGS struct cli
const struct cli_option cli_global_options[] = {
    OPT_STRING(0, "config", config_path, "FILE",
               "the dwh.cfg to read (default: $SPARKIFY_CONFIG, else ./dwh.cfg when present)"),
    OPT_STRING(0, "target", target_flag, "URL",
               "the warehouse (default: $SPARKIFY_TARGET, else Redshift when dwh.cfg has "
               "[CLUSTER] HOST, else sqlite:sparkify.db)"),
    OPT_BOOL('q', "quiet", quiet,
             "no progress line and no summary on stderr (errors are still printed)"),
    OPT_ENUM(0, "progress", progress, NULL, progress_modes,
             "the live progress line on stderr: on a terminal (auto, the default), always, or "
             "never"),
    OPT_BOOL(0, "dry-run", dry_run,
             "print the SQL the command would run, connecting to no warehouse and writing "
             "nothing"),
    OPT_BOOL_F('h', "help", help, "describe sparkify, or the command it follows",
               .flags = CLI_OPTION_STOP),
    OPT_END,
};
#undef CLI_ARGS

/* The operand as usage shows it: "SQL", "[FILE]", or "" for none. */
static void operand_label(const struct cli_command *command, char *out, size_t size)
{
    if (!command->operand)
        out[0] = '\0';
    else if (command->operand_optional)
        snprintf(out, size, "[%s]", command->operand);
    else
        snprintf(out, size, "%s", command->operand);
}

void cli_command_label(const char *name, const struct cli_command *command, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "%s", name);
    for (const struct cli_subcommand *sub = command->subcommands; sub && sub->name; sub++) {
        if (used < size)
            used += (size_t)snprintf(out + used, size - used, "%s%s",
                                     sub == command->subcommands ? " " : "|", sub->name);
    }
    char operand[64];
    operand_label(command, operand, sizeof operand);
    if (*operand && used < size)
        snprintf(out + used, size - used, " %s", operand);
}

/* "usage: sparkify NAME [-q] ... OPERAND", under `lead` ("usage:", "   or:"). */
static void print_usage_line(FILE *out, const char *lead, const char *name,
                             const struct cli_command *command)
{
    char prefix[128], operand[64];
    snprintf(prefix, sizeof prefix, "%s sparkify %s ", lead, name);
    operand_label(command, operand, sizeof operand);
    const struct cli_option *tables[] = {command->options};
    options_print_usage(out, prefix, tables, 1, *operand ? operand : NULL);
}

static void print_global_line(FILE *out)
{
    fputc('\n', out);
    const struct cli_option *global[] = {cli_global_options};
    options_print_usage(out, "global options (`sparkify --help`): ", global, 1, NULL);
}

/* The options of every subcommand, each once (subcommands share options), in the order they
 * first appear; freed by the caller. */
static struct cli_option *subcommand_options(const struct cli_subcommand *subs)
{
    size_t n = 0;
    for (const struct cli_subcommand *sub = subs; sub->name; sub++)
        for (const struct cli_option *o = sub->spec->options; o->type != CLI_OPTION_END; o++)
            n++;
    struct cli_option *all = xcalloc(n + 1, sizeof *all); /* zeroed: ends with CLI_OPTION_END */
    size_t used = 0;
    for (const struct cli_subcommand *sub = subs; sub->name; sub++) {
        for (const struct cli_option *o = sub->spec->options; o->type != CLI_OPTION_END; o++) {
            bool seen = o->type == CLI_OPTION_GROUP;
            for (size_t i = 0; i < used && !seen; i++)
                seen = all[i].short_name == o->short_name &&
                       (all[i].long_name == o->long_name ||
                        (all[i].long_name && o->long_name &&
                         strcmp(all[i].long_name, o->long_name) == 0));
            if (!seen)
                all[used++] = *o;
        }
    }
    return all;
}

/* `sparkify NAME --help` for a command with subcommands. */
static void print_subcommands_help(FILE *out, const char *name, const struct cli_command *command)
{
    const struct cli_subcommand *subs = command->subcommands;
    size_t width = 0;
    for (const struct cli_subcommand *sub = subs; sub->name; sub++) {
        char full[96];
        snprintf(full, sizeof full, "%s %s", name, sub->name);
        print_usage_line(out, sub == subs ? "usage:" : "   or:", full, sub->spec);
        if (strlen(sub->name) > width)
            width = strlen(sub->name);
    }
    fputc('\n', out);
    options_print_text(out, command->description);
    fputc('\n', out);
    for (const struct cli_subcommand *sub = subs; sub->name; sub++)
        options_print_item(out, sub->name, 2 + width + 2, sub->summary);
    fputc('\n', out);
    struct cli_option *all = subcommand_options(subs);
    const struct cli_option *tables[] = {all};
    options_print_list(out, tables, 1);
    free(all);
    if (command->epilogue) {
        fputc('\n', out);
        options_print_text(out, command->epilogue);
    }
    print_global_line(out);
}

void cli_print_command_help(FILE *out, const char *name, const struct cli_command *command)
{
    if (command->subcommands) {
        print_subcommands_help(out, name, command);
        return;
    }
    print_usage_line(out, "usage:", name, command);
    fputc('\n', out);
    options_print_text(out, command->description);
    if (command->options[0].type != CLI_OPTION_END) {
        fputc('\n', out);
        const struct cli_option *tables[] = {command->options};
        options_print_list(out, tables, 1);
    }
    if (command->epilogue) {
        fputc('\n', out);
        options_print_text(out, command->epilogue);
    }
    print_global_line(out);
}

void cli_print_option_rows(FILE *out, const char *name, const struct cli_command *command)
{
    char operand[64];
    operand_label(command, operand, sizeof operand);
    if (*operand)
        fprintf(out, "operand\t%s\t%s\n", name, operand);
    if (command->options)
        options_print_rows(out, name, command->options);
    for (const struct cli_subcommand *sub = command->subcommands; sub && sub->name; sub++) {
        char full[96];
        snprintf(full, sizeof full, "%s %s", name, sub->name);
        fprintf(out, "command\t%s\t%s\n", full, sub->summary);
        cli_print_option_rows(out, full, sub->spec);
    }
}

const char *cli_config_path(const struct cli *cli, bool *named)
{
    const char *env = getenv("SPARKIFY_CONFIG");
    const char *path = cli->config_path ? cli->config_path : env && *env ? env : NULL;
    if (named)
        *named = path != NULL;
    return path ? path : "dwh.cfg";
}

int cli_load_config(struct cli *cli, struct sp_error *err)
{
    bool named;
    const char *path = cli_config_path(cli, &named);
    return config_file_load(&cli->config, path, named, err);
}

void cli_target(const struct cli *cli, struct cli_target *out)
{
    memset(out, 0, sizeof *out);
    out->target.url = config_pick(cli->target_flag, "SPARKIFY_TARGET", NULL, NULL);
    if (!out->target.url && !config_cluster_keywords(&cli->config, out->keys, out->values))
        out->target.url = "sqlite:sparkify.db";
    out->target.keys = out->keys;
    out->target.values = out->values;
}

static void print_statement(void *ctx, const char *sql)
{
    (void)ctx;
    size_t len = strlen(sql);
    while (len && (sql[len - 1] == ' ' || sql[len - 1] == '\n' || sql[len - 1] == ';'))
        len--;
    printf("%.*s%s\n", (int)len, sql, strncmp(sql, "--", 2) == 0 ? "" : ";");
}

static volatile sig_atomic_t progress_drawn; /* a progress line stands: clear it first */

/* A server's warning, on a line of its own (cli_info: not with -q, which draws no progress
 * line): a progress line standing is cleared first and is drawn again by its next update. */
static void server_warning(void *ctx, const char *line)
{
    const struct cli *cli = ctx;
    if (progress_drawn) {
        fputs("\r\033[K", stderr);
        progress_drawn = false;
    }
    cli_info(cli, "sparkify: warning: %s\n", line);
}

int cli_open_warehouse(const struct cli *cli, enum warehouse_mode mode, struct warehouse **out,
                       struct sp_error *err)
{
    *out = NULL;
    struct cli_target t;
    cli_target(cli, &t);
    static const struct warehouse_dry_run dry_run = {print_statement, NULL};
    if (cli->dry_run) {
        char *shown = NULL;
        int status = warehouse_target_display(&t.target, &shown, err);
        if (status != SP_OK)
            return status;
        fputs("-- dry run on ", stdout);
        cli_write_escaped(stdout, shown);
        fputs(": the statements sparkify would run; no warehouse is connected and nothing is "
              "written\n",
              stdout);
        free(shown);
    }
    int status = warehouse_open_target(&t.target, mode, cli->dry_run ? &dry_run : NULL, out, err);
    if (status == SP_OK)
        (*out)->warning = (struct warehouse_warning){server_warning, (void *)cli};
    return status;
}

void cli_write_escaped(FILE *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { /* U+0080..U+009F, such as CSI */
            fprintf(out, "\\x%02x\\x%02x", p[0], p[1]);
            p++;
        } else
            fputc(*p, out);
    }
}

/* Formats and writes escaped; a final newline stays a newline. */
static void vprint_escaped(FILE *out, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vprint_escaped(FILE *out, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    char *text = xmalloc((size_t)n + 1);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    bool newline = n > 0 && text[n - 1] == '\n';
    if (newline)
        text[n - 1] = '\0';
    cli_write_escaped(out, text);
    if (newline)
        fputc('\n', out);
    free(text);
}

int cli_report_error(const struct sp_error *err)
{
    fputs("sparkify: ", stderr);
    cli_write_escaped(stderr, err->message[0] ? err->message : "unknown error");
    fputc('\n', stderr);
    return err->status ? err->status : 1;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sparkify%s%s: ", command ? " " : "", command ? command : "");
    vprint_escaped(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see `sparkify%s%s --help`)\n", command ? " " : "", command ? command : "");
    return SP_USAGE;
}

int cli_parse_count(const char *text, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

void cli_info(const struct cli *cli, const char *fmt, ...)
{
    if (cli->quiet)
        return;
    fflush(stdout); /* what went to stdout comes first, also when both share one pipe */
    va_list ap;
    va_start(ap, fmt);
    vprint_escaped(stderr, fmt, ap);
    va_end(ap);
}

/* ---- interrupts ---- */

static const char *volatile interrupt_line = "sparkify: interrupted; nothing was written\n";
static const char *volatile interrupt_file;
static bool interrupt_on_terminal; /* stderr is a terminal: clear a progress line first */

static void on_interrupt(int signal_number)
{
    const char *file = interrupt_file;
    if (file)
        unlink(file);
    static const char clear[] = "\r\033[K";
    ssize_t ignored = 0;
    if (interrupt_on_terminal || progress_drawn)
        ignored += write(STDERR_FILENO, clear, sizeof clear - 1);
    const char *line = interrupt_line;
    ignored += write(STDERR_FILENO, line, strlen(line));
    (void)ignored;
    _exit(signal_number == SIGINT ? 130 : 143);
}

void cli_handle_interrupts(void)
{
    interrupt_on_terminal = isatty(STDERR_FILENO);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    /* A signal ignored on entry stays ignored: a shell starts background jobs with SIGINT
     * ignored, so that a Ctrl-C meant for the foreground does not end them. */
    int signals[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < 2; i++) {
        struct sigaction old;
        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(signals[i], &sa, NULL);
    }
}

void cli_interrupt_message(const char *line)
{
    interrupt_line = line;
}

void cli_remove_on_interrupt(const char *path)
{
    interrupt_file = path;
}

void cli_progress_drawn(bool drawn)
{
    progress_drawn = drawn;
}
