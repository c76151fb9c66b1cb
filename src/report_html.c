/* report_html.c - the report as one HTML page: inline CSS, inline SVG charts, no scripts.
 *
 * The page opens anywhere, offline, and reads at a glance: cards with the key numbers, then a
 * chart per section - bars for the top lists, a 24-bar hour histogram, a weekday histogram,
 * a line of daily active users, a stacked bar of paid vs free plays - each with a title, axis
 * labels and its values written on it. Charts are drawn in SVG user units and scale with the
 * page (viewBox), so the wide charts, drawn at half their size on a narrow screen, get larger
 * text there (the media queries in `style`). A bar's label sits above it, across the card's
 * whole width, so that long names (metropolitan areas, song and artist) are shown whole; one
 * still too long is cut with an ellipsis and kept whole in a <title> tooltip. A period without
 * plays is said once, in place of the charts, not drawn as empty axes and zero bars. The top
 * songs and artists carry the matched note (report_text.h) when some plays did not match.
 * Everything from the warehouse is escaped as HTML text. SVG elements carry stable ids and
 * classes (chart-*, bar, dau-line, dau-point, share-segment) that tests count in the rendered
 * DOM.
 */
#include "report_html.h"

#include "buffer.h"
#include "report_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHART_WIDTH 600.0
#define WIDE_WIDTH 1200.0
#define SMALL_HEIGHT 250.0 /* of the weekday histogram and the paid vs free share, side by side */
#define LABEL_CHARS 76     /* of a bar label, at 12px across a chart's width */

static const char *const share_colors[] = {"#4f46e5", "#f59e0b", "#94a3b8", "#e11d48"};

/* ---- text and numbers ---- */

static void html_text(FILE *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '&')
            fputs("&amp;", out);
        else if (c == '<')
            fputs("&lt;", out);
        else if (c == '>')
            fputs("&gt;", out);
        else if (c == '"')
            fputs("&quot;", out);
        else if (c == '\'')
            fputs("&#39;", out);
        else
            fputc(c < 0x20 || c == 0x7F ? ' ' : c, out);
    }
}

static void html_str(FILE *out, const char *s)
{
    html_text(out, s, strlen(s));
}

/* At most `max` characters of `s`, the last one an ellipsis when it is cut. */
static void html_cut(FILE *out, const char *s, size_t max)
{
    size_t chars = 0, len = strlen(s), keep = len;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue;
        if (chars == max - 1)
            keep = i;
        chars++;
    }
    if (chars <= max) {
        html_text(out, s, len);
        return;
    }
    html_text(out, s, keep);
    fputs("…", out);
}

/* Counts with thousands separators; other numbers with up to two decimals. */
static void format_number(double v, char *out, size_t size)
{
    if (v != floor(v) || fabs(v) >= 1e15) {
        snprintf(out, size, "%.2f", v);
        size_t n = strlen(out);
        while (n > 0 && out[n - 1] == '0')
            out[--n] = '\0';
        if (n > 0 && out[n - 1] == '.')
            out[--n] = '\0';
        return;
    }
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t o = 0;
    if (v < 0 && o + 1 < size)
        out[o++] = '-';
    for (int i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* ---- reading the result sets ---- */

struct page_data {
    const struct report_section *sections;
    struct result_set *const *results;
    size_t count;
    double plays, matched; /* songplays in the period, and those matched to a song */
};

static const struct result_set *rows_of(const struct page_data *d, const char *name)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->sections[i].name, name) == 0)
            return d->results[i];
    return NULL;
}

static size_t row_count(const struct result_set *rs)
{
    return rs ? result_set_rows(rs) : 0;
}

static double number_at(const struct result_set *rs, size_t row, const char *column)
{
    return rs ? result_set_number(rs, row, column) : 0;
}

/* A label from a template such as "{song} — {artist}"; NULL cells read "?". */
static char *label_at(const struct result_set *rs, size_t row, const char *template)
{
    struct buffer b;
    buffer_init(&b);
    const char *p = template, *open;
    while ((open = strchr(p, '{')) != NULL) {
        const char *close = strchr(open, '}');
        buffer_append(&b, p, (size_t)(open - p));
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(close - open - 1), open + 1);
        int c = result_set_column(rs, name);
        const struct cell *v = c >= 0 ? result_set_cell(rs, row, (size_t)c) : NULL;
        char scratch[64];
        size_t len;
        const char *text = v ? cell_text(v, scratch, sizeof scratch, &len) : "";
        if (!v || v->type == CELL_NULL)
            buffer_append_str(&b, "?");
        else
            buffer_append(&b, text, len);
        p = close + 1;
    }
    buffer_append_str(&b, p);
    return b.data ? b.data : xstrdup("");
}

/* ---- charts ---- */

struct bar {
    char *label;
    double value;
};

static void bars_free(struct bar *bars, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(bars[i].label);
    free(bars);
}

/* A round axis maximum with `ticks` equal steps (1, 2, 2.5 or 5 times a power of ten). */
static double axis_step(double max, int ticks)
{
    if (max <= 0)
        return 1;
    double raw = max / ticks, magnitude = pow(10, floor(log10(raw))), f = raw / magnitude;
    double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * magnitude;
    return step < 1 ? 1 : step;
}

static double max_value(const struct bar *bars, size_t n)
{
    double max = 0;
    for (size_t i = 0; i < n; i++)
        if (bars[i].value > max)
            max = bars[i].value;
    return max;
}

static void svg_open(FILE *out, const char *id, const char *kind, double width, double height,
                     const char *title)
{
    fprintf(out,
            "<svg class=\"chart %s%s\" id=\"%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"",
            kind, width == WIDE_WIDTH ? " wide" : "", id, width, height);
    html_str(out, title);
    fputs("\">\n", out);
}

static void svg_empty(FILE *out, double width, double height, const char *message)
{
    fprintf(out,
            "<text class=\"empty\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
            "dominant-baseline=\"central\">",
            width / 2, height / 2);
    html_str(out, message);
    fputs("</text>\n", out);
}

/* A tooltip and a value, shared by every kind of bar. */
static void svg_title(FILE *out, const char *label, double value, const char *unit)
{
    char number[40];
    format_number(value, number, sizeof number);
    fputs("<title>", out);
    html_str(out, label);
    fprintf(out, ": %s %s</title>", number, unit);
}

/* Horizontal bars, one row per item: its label above the bar, across the chart's width, and its
 * value at the bar's end. `empty` is said when there are no items. */
static void chart_hbars(FILE *out, const char *id, const char *title, const char *category,
                        const char *unit, const struct bar *bars, size_t n, const char *color,
                        const char *empty)
{
    const double left = 2, right = 52, top = 30, row = 40, bar = 16;
    double plot = CHART_WIDTH - left - right, bottom = top + (double)(n ? n : 1) * row;
    double height = n ? bottom + 44 : 60;
    svg_open(out, id, "hbars", CHART_WIDTH, height, title);
    if (!n) {
        svg_empty(out, CHART_WIDTH, height, empty);
        fputs("</svg>\n", out);
        return;
    }
    fprintf(out, "<text class=\"axis-label\" x=\"%.0f\" y=\"16\">", left);
    html_str(out, category);
    fputs("</text>\n", out);
    double step = axis_step(max_value(bars, n), 4), axis = step * ceil(max_value(bars, n) / step);
    if (axis <= 0)
        axis = step;
    char number[40];
    for (double v = 0; v <= axis + step / 2; v += step) {
        double x = left + plot * v / axis;
        format_number(v, number, sizeof number);
        fprintf(out,
                "<line class=\"axis\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">%s</text>\n",
                x, bottom, x, bottom + 4, x, bottom + 17, v == 0 ? "start" : "middle", number);
    }
    for (size_t i = 0; i < n; i++) {
        double y = top + (double)i * row, w = plot * bars[i].value / axis;
        format_number(bars[i].value, number, sizeof number);
        fputs("<g class=\"item\">", out);
        svg_title(out, bars[i].label, bars[i].value, unit);
        fprintf(out, "<text class=\"label\" x=\"%.0f\" y=\"%.1f\">", left, y + 14);
        html_cut(out, bars[i].label, LABEL_CHARS);
        fprintf(out,
                "</text><rect class=\"bar\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
                "rx=\"3\" fill=\"%s\"/><text class=\"value\" x=\"%.1f\" y=\"%.1f\" "
                "dominant-baseline=\"central\">%s</text></g>\n",
                left, y + 20, w, bar, color, left + w + 6, y + 20 + bar / 2, number);
    }
    /* No grid across the rows: it would run through the labels; every bar has its value. */
    fprintf(out,
            "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>"
            "<text class=\"axis-label\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">",
            left, bottom, left + plot, bottom, left + plot / 2, height - 6);
    html_str(out, unit);
    fputs("</text>\n</svg>\n", out);
}

/* The frame of a chart with vertical values: grid lines, ticks and both axis labels. Returns
 * the axis maximum. */
static double vertical_frame(FILE *out, double width, double height, double left, double top,
                             double bottom, double max, const char *category, const char *unit)
{
    double step = axis_step(max, 4), axis = step * ceil(max / step);
    if (axis <= 0)
        axis = step;
    char number[40];
    for (double v = 0; v <= axis + step / 2; v += step) {
        double y = bottom - (bottom - top) * v / axis;
        format_number(v, number, sizeof number);
        fprintf(out,
                "<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
                "<text class=\"tick\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" "
                "dominant-baseline=\"central\">%s</text>\n",
                left, y, width - 12, y, left - 8, y, number);
    }
    fprintf(out,
            "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>"
            "<text class=\"axis-label\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">",
            left, bottom, width - 12, bottom, (left + width - 12) / 2, height - 8);
    html_str(out, category);
    fprintf(out,
            "</text><text class=\"axis-label\" transform=\"rotate(-90)\" x=\"%.1f\" y=\"16\" "
            "text-anchor=\"middle\">",
            -(top + bottom) / 2);
    html_str(out, unit);
    fputs("</text>\n", out);
    return axis;
}

/* Vertical bars over fixed categories (hours, weekdays), every value written above its bar. */
static void chart_vbars(FILE *out, const char *id, const char *title, const char *category,
                        const char *unit, const struct bar *bars, size_t n, const char *color,
                        double width)
{
    const double height = width == WIDE_WIDTH ? 290 : SMALL_HEIGHT, left = 64, top = 26;
    const double bottom = height - 52;
    svg_open(out, id, "vbars", width, height, title);
    double axis =
        vertical_frame(out, width, height, left, top, bottom, max_value(bars, n), category, unit);
    double slot = (width - 12 - left) / (double)n, w = slot * 0.72;
    char number[40];
    for (size_t i = 0; i < n; i++) {
        double x = left + (double)i * slot + (slot - w) / 2;
        double h = (bottom - top) * bars[i].value / axis;
        format_number(bars[i].value, number, sizeof number);
        fputs("<g class=\"item\">", out);
        svg_title(out, bars[i].label, bars[i].value, unit);
        fprintf(out,
                "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "rx=\"2\" fill=\"%s\"/><text class=\"value\" x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"middle\">%s</text><text class=\"tick\" x=\"%.1f\" y=\"%.0f\" "
                "text-anchor=\"middle\">",
                x, bottom - h, w, h, color, x + w / 2, bottom - h - 5, number, x + w / 2,
                bottom + 16);
        html_str(out, bars[i].label);
        fputs("</text></g>\n", out);
    }
    fputs("</svg>\n", out);
}

/* Days since 1970-01-01 of "YYYY-MM-DD" (the civil-from-days inverse), for the x axis. */
static long day_number(const char *text)
{
    int y = atoi(text), m = atoi(text + 5), d = atoi(text + 8);
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400, doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* Daily active users: a line over the days (placed by date, so a missing day shows), a dot
 * and the value at every day. */
static void chart_line(FILE *out, const char *id, const char *title, const struct bar *days,
                       size_t n, const char *color)
{
    const double width = WIDE_WIDTH, height = 300, left = 64, top = 30, bottom = height - 52;
    svg_open(out, id, "line", width, height, title);
    if (!n) {
        svg_empty(out, width, height, "no plays in this period");
        fputs("</svg>\n", out);
        return;
    }
    double axis = vertical_frame(out, width, height, left, top, bottom, max_value(days, n),
                                 "day (UTC)", "active users");
    long first = day_number(days[0].label), span = day_number(days[n - 1].label) - first;
    double plot = width - 12 - left - 24, x0 = left + 12;
    double *xs = xcalloc(n, sizeof *xs), *ys = xcalloc(n, sizeof *ys);
    struct buffer points;
    buffer_init(&points);
    for (size_t i = 0; i < n; i++) {
        long day = day_number(days[i].label) - first;
        xs[i] = x0 + (span ? plot * (double)day / (double)span : plot / 2);
        ys[i] = bottom - (bottom - top) * days[i].value / axis;
        buffer_printf(&points, "%s%.1f,%.1f", i ? " " : "", xs[i], ys[i]);
    }
    fprintf(out,
            "<polygon class=\"dau-area\" points=\"%.1f,%.0f %s %.1f,%.0f\" fill=\"%s\" "
            "fill-opacity=\"0.12\"/>\n<polyline class=\"dau-line\" points=\"%s\" fill=\"none\" "
            "stroke=\"%s\" stroke-width=\"2.5\" stroke-linejoin=\"round\"/>\n",
            xs[0], bottom, points.data, xs[n - 1], bottom, color, points.data, color);
    size_t every = n > 10 ? (n + 9) / 10 : 1; /* date labels that do not collide */
    char number[40];
    for (size_t i = 0; i < n; i++) {
        format_number(days[i].value, number, sizeof number);
        fputs("<g class=\"item\">", out);
        svg_title(out, days[i].label, days[i].value, "active users");
        fprintf(out,
                "<circle class=\"dau-point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>"
                "<text class=\"value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                xs[i], ys[i], color, xs[i], ys[i] - 8, number);
        if (i % every == 0 || i == n - 1) {
            fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">",
                    xs[i], bottom + 16);
            html_str(out, strlen(days[i].label) > 5 ? days[i].label + 5 : days[i].label);
            fputs("</text>", out);
        }
        fputs("</g>\n", out);
    }
    free(xs);
    free(ys);
    buffer_release(&points);
    fputs("</svg>\n", out);
}

/* Paid vs free: one bar split by share on a 0-100% scale, and below it each level's share in
 * large type with its plays, filling the height of the weekday histogram beside it. */
static void chart_share(FILE *out, const char *id, const char *title, const struct result_set *rs)
{
    const double left = 2, top = 34, bar = 56, plot = CHART_WIDTH - 4, height = SMALL_HEIGHT;
    size_t n = row_count(rs);
    svg_open(out, id, "share", CHART_WIDTH, height, title);
    fputs("<text class=\"axis-label\" x=\"2\" y=\"16\">share of plays by level</text>\n", out);
    if (!n) {
        svg_empty(out, CHART_WIDTH, height, "no plays in this period");
        fputs("</svg>\n", out);
        return;
    }
    for (int p = 0; p <= 100; p += 25)
        fprintf(out,
                "<line class=\"axis\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">%d%%</text>\n",
                left + plot * p / 100, top + bar, left + plot * p / 100, top + bar + 5,
                left + plot * p / 100, top + bar + 19,
                p == 0     ? "start"
                : p == 100 ? "end"
                           : "middle",
                p);
    double x = left, column = plot / (double)n;
    for (size_t i = 0; i < n; i++) {
        char *label = label_at(rs, i, "{level}");
        double plays = number_at(rs, i, "plays"), percent = number_at(rs, i, "percent_of_plays");
        double w = plot * percent / 100, cx = left + column * (double)i;
        const char *color = share_colors[i < 4 ? i : 3];
        char number[40], share[40];
        format_number(plays, number, sizeof number);
        format_number(percent, share, sizeof share);
        fputs("<g class=\"item\">", out);
        svg_title(out, label, plays, "plays");
        fprintf(out,
                "<rect class=\"share-segment\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" "
                "height=\"%.0f\" fill=\"%s\"/>",
                x, top, w, bar, color);
        if (w > 90) {
            fprintf(out,
                    "<text class=\"share-label\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" "
                    "dominant-baseline=\"central\">",
                    x + w / 2, top + bar / 2);
            html_cut(out, label, 12);
            fprintf(out, " %s%%</text>", share);
        }
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.0f\" width=\"14\" height=\"14\" rx=\"3\" fill=\"%s\"/>"
                "<text class=\"label share-level\" x=\"%.1f\" y=\"%.0f\">",
                cx, top + bar + 48, color, cx + 22, top + bar + 60);
        html_cut(out, label, n > 2 ? 12 : 30);
        fprintf(out,
                "</text><text class=\"share-value\" x=\"%.1f\" y=\"%.0f\" style=\"fill:%s\">%s%%"
                "</text><text class=\"label share-plays\" x=\"%.1f\" y=\"%.0f\">%s plays</text>"
                "</g>\n",
                cx, top + bar + 104, color, share, cx, top + bar + 132, number);
        x += w;
        free(label);
    }
    fputs("</svg>\n", out);
}

/* ---- the page ---- */

/* Bar charts of the top lists and families: section, label, category axis, colour, and what
 * an empty chart says (the period has plays: a period without any draws no chart). */
static const struct {
    const char *section, *id, *label, *category, *color, *empty;
} bar_charts[] = {
    {"top_songs", "chart-top-songs", "{song} — {artist}", "song — artist", "#4f46e5",
     "no play matched a song in the catalog"},
    {"top_artists", "chart-top-artists", "{artist}", "artist", "#0d9488",
     "no play matched a song in the catalog"},
    {"top_users", "chart-top-users", "{first_name} {last_name} (#{user_id})", "user", "#7c3aed",
     "no plays"},
    {"top_locations", "chart-top-locations", "{location}", "location", "#0284c7",
     "no play has a location"},
    {"browsers", "chart-browsers", "{browser}", "browser", "#db2777", "no plays"},
    {"operating_systems", "chart-operating-systems", "{os}", "operating system", "#059669",
     "no plays"},
};

static const char *title_of(const struct page_data *d, const char *name)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->sections[i].name, name) == 0)
            return d->sections[i].title;
    return name;
}

static void figure_open(FILE *out, const struct page_data *d, const char *section, bool wide)
{
    fprintf(out, "<figure class=\"card%s\"><figcaption>", wide ? " wide" : "");
    html_str(out, title_of(d, section));
    fputs("</figcaption>\n", out);
}

static void write_bar_chart(FILE *out, const struct page_data *d, size_t which)
{
    const struct result_set *rs = rows_of(d, bar_charts[which].section);
    size_t n = row_count(rs);
    struct bar *bars = xcalloc(n ? n : 1, sizeof *bars);
    for (size_t i = 0; i < n; i++) {
        bars[i].label = label_at(rs, i, bar_charts[which].label);
        bars[i].value = number_at(rs, i, "plays");
    }
    figure_open(out, d, bar_charts[which].section, false);
    chart_hbars(out, bar_charts[which].id, title_of(d, bar_charts[which].section),
                bar_charts[which].category, "plays", bars, n, bar_charts[which].color,
                bar_charts[which].empty);
    fputs("</figure>\n", out);
    bars_free(bars, n);
}

/* Hours 0-23 or weekdays 0-6, with the ones that have no plays drawn as empty bars. */
struct histogram {
    const char *section, *id, *key, *category, *color;
    const char *const *names; /* of the categories, or NULL for their numbers */
    size_t count;
    double width;
};

static void write_histogram(FILE *out, const struct page_data *d, const struct histogram *h)
{
    const struct result_set *rs = rows_of(d, h->section);
    struct bar *bars = xcalloc(h->count, sizeof *bars);
    for (size_t i = 0; i < h->count; i++) {
        char number[24];
        snprintf(number, sizeof number, "%zu", i);
        bars[i].label = xstrdup(h->names ? h->names[i] : number);
    }
    for (size_t r = 0; r < row_count(rs); r++) {
        double k = number_at(rs, r, h->key);
        if (k >= 0 && k < (double)h->count)
            bars[(size_t)k].value = number_at(rs, r, "plays");
    }
    figure_open(out, d, h->section, h->width == WIDE_WIDTH);
    chart_vbars(out, h->id, title_of(d, h->section), h->category, "plays", bars, h->count, h->color,
                h->width);
    fputs("</figure>\n", out);
    bars_free(bars, h->count);
}

static void write_kpi(FILE *out, double value, const char *label, const char *suffix)
{
    char number[40];
    format_number(value, number, sizeof number);
    fprintf(out,
            "<div class=\"kpi\"><div class=\"kpi-value\">%s%s</div><div class=\"kpi-label\">%s"
            "</div></div>\n",
            number, suffix, label);
}

static void write_kpis(FILE *out, const struct page_data *d)
{
    const struct result_set *tables = rows_of(d, "row_counts");
    const struct result_set *levels = rows_of(d, "level_share");
    const struct result_set *dau = rows_of(d, "daily_active_users");
    fputs("<section class=\"kpis\">\n", out);
    write_kpi(out, d->plays, "songplays in the period", "");
    if (d->plays > 0) {
        char label[64];
        snprintf(label, sizeof label, "matched to a song (");
        report_matched_share((long long)d->plays, (long long)d->matched, label + strlen(label),
                             sizeof label - strlen(label) - 1);
        strcat(label, ")");
        write_kpi(out, d->matched, label, "");
        double paid = 0, peak = 0;
        for (size_t i = 0; i < row_count(levels); i++) {
            char *level = label_at(levels, i, "{level}");
            if (strcmp(level, "paid") == 0)
                paid = number_at(levels, i, "percent_of_plays");
            free(level);
        }
        for (size_t i = 0; i < row_count(dau); i++)
            if (number_at(dau, i, "users") > peak)
                peak = number_at(dau, i, "users");
        write_kpi(out, paid, "of plays by paid users", "%");
        write_kpi(out, peak, "peak daily active users", "");
    }
    for (size_t i = 0; i < row_count(tables); i++) {
        char *name = label_at(tables, i, "{table_name} in the warehouse");
        if (strncmp(name, "songplays", 9) != 0 && strncmp(name, "time", 4) != 0)
            write_kpi(out, number_at(tables, i, "row_count"), name, "");
        free(name);
    }
    fputs("</section>\n", out);
}

/* A period without plays: said once, with what the warehouse holds, in place of the charts. */
static void write_no_plays(FILE *out, const struct page_data *d)
{
    const struct result_set *tables = rows_of(d, "row_counts");
    double total = 0;
    for (size_t i = 0; i < row_count(tables); i++) {
        char *name = label_at(tables, i, "{table_name}");
        if (strcmp(name, "songplays") == 0)
            total = number_at(tables, i, "row_count");
        free(name);
    }
    char number[40];
    format_number(total, number, sizeof number);
    fputs("<section class=\"card wide no-plays\" id=\"no-plays\"><p class=\"no-plays-title\">No "
          "plays in this period</p><p>",
          out);
    if (total > 0)
        fprintf(out, "The warehouse holds %s play%s, all outside it: choose another period.",
                number, total == 1 ? "" : "s");
    else
        fputs("The warehouse holds no plays yet: <code>sparkify etl</code> loads them.", out);
    fputs("</p></section>\n", out);
}

/* The note on matched plays, once, above the top songs and artists it is about. */
static void write_matched_note(FILE *out, const struct page_data *d)
{
    for (size_t i = 0; i < d->count; i++) {
        if (strcmp(d->sections[i].name, "top_songs") != 0)
            continue;
        char *note = report_section_note(d->sections, d->results, d->count, i);
        if (note) {
            fputs("<p class=\"note\" id=\"matched-note\">", out);
            html_str(out, note);
            fputs("</p>\n", out);
        }
        free(note);
    }
}

static const char style[] =
    ":root{--ink:#0f172a;--muted:#64748b;--grid:#e2e8f0;--card:#fff;--bg:#f1f5f9}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}"
    "header{padding:28px 32px 4px}h1{margin:0;font-size:26px;letter-spacing:-.01em}"
    ".meta{color:var(--muted);margin:6px 0 0}"
    "main{padding:18px 32px 28px;display:grid;grid-template-columns:repeat(2,minmax(0,1fr));"
    "gap:20px}"
    ".kpis{grid-column:1/-1;display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));"
    "gap:16px}"
    ".kpi,figure{background:var(--card);border-radius:12px;"
    "box-shadow:0 1px 3px rgba(15,23,42,.08),0 1px 2px rgba(15,23,42,.04)}"
    ".kpi{padding:16px 18px}.kpi-value{font-size:28px;font-weight:650;line-height:1.15}"
    ".kpi-label{color:var(--muted)}"
    "figure{margin:0;padding:18px 20px 12px}figure.wide{grid-column:1/-1}"
    "figcaption{font-weight:600;font-size:16px;margin-bottom:6px}"
    "svg.chart{width:100%;height:auto;display:block}"
    "svg.chart text{fill:var(--ink);font-size:12px}"
    "svg.chart .tick,svg.chart .axis-label,svg.chart .empty{fill:var(--muted)}"
    "svg.chart .empty{font-size:14px}"
    "svg.chart .tick{font-size:11px}svg.chart .value{font-size:11px;font-weight:600}"
    "svg.chart .share-label{fill:#fff;font-weight:600;font-size:13px}"
    "svg.chart .grid{stroke:var(--grid)}svg.chart .axis{stroke:#94a3b8}"
    "svg.chart .item:hover .bar{opacity:.8}"
    "svg.chart .share-level{font-weight:600;font-size:14px}"
    "svg.chart .share-value{font-size:32px;font-weight:650}"
    "svg.chart .share-plays{fill:var(--muted);font-size:13px}"
    ".note{grid-column:1/-1;margin:0;padding:12px 16px;background:#fffbeb;color:#78350f;"
    "border:1px solid #fde68a;border-left:4px solid #f59e0b;border-radius:10px}"
    ".no-plays{grid-column:1/-1;background:var(--card);border-radius:12px;padding:36px 24px;"
    "text-align:center;color:var(--muted);box-shadow:0 1px 3px rgba(15,23,42,.08)}"
    ".no-plays p{margin:0}.no-plays .no-plays-title{color:var(--ink);font-size:20px;"
    "font-weight:600;margin-bottom:6px}"
    "footer{color:var(--muted);padding:0 32px 24px;font-size:12px}"
    /* A wide chart is drawn smaller than its 1200 units below ~1300px: larger text keeps it
     * readable (about 11px on screen). */
    "@media (max-width:1100px){svg.chart.wide text{font-size:15px}"
    "svg.chart.wide .tick,svg.chart.wide .value{font-size:14px}}"
    "@media (max-width:900px){main{grid-template-columns:1fr}svg.chart.wide text{font-size:19px}"
    "svg.chart.wide .tick,svg.chart.wide .value{font-size:18px}}"
    "@media (max-width:700px){svg.chart.wide text{font-size:25px}"
    "svg.chart.wide .tick,svg.chart.wide .value{font-size:23px}}";

/* Every chart, for a period with plays. */
static void write_charts(FILE *out, const struct page_data *d)
{
    static const char *const weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const struct histogram hours = {
        "plays_by_hour", "chart-plays-by-hour", "hour", "hour of day (UTC)", "#f97316", NULL, 24,
        WIDE_WIDTH};
    static const struct histogram week = {"plays_by_weekday",
                                          "chart-plays-by-weekday",
                                          "weekday",
                                          "weekday (UTC)",
                                          "#0ea5e9",
                                          weekdays,
                                          7,
                                          CHART_WIDTH};
    write_histogram(out, d, &hours);

    const struct result_set *dau = rows_of(d, "daily_active_users");
    size_t days = row_count(dau);
    struct bar *points = xcalloc(days ? days : 1, sizeof *points);
    for (size_t i = 0; i < days; i++) {
        points[i].label = label_at(dau, i, "{day}");
        points[i].value = number_at(dau, i, "users");
    }
    figure_open(out, d, "daily_active_users", true);
    chart_line(out, "chart-daily-active-users", title_of(d, "daily_active_users"), points, days,
               "#4f46e5");
    fputs("</figure>\n", out);
    bars_free(points, days);

    write_matched_note(out, d);
    for (size_t i = 0; i < 4; i++)
        write_bar_chart(out, d, i);
    write_histogram(out, d, &week);
    figure_open(out, d, "level_share", false);
    chart_share(out, "chart-level-share", title_of(d, "level_share"), rows_of(d, "level_share"));
    fputs("</figure>\n", out);
    for (size_t i = 4; i < sizeof bar_charts / sizeof bar_charts[0]; i++)
        write_bar_chart(out, d, i);
}

void report_html_write(FILE *out, const struct report_page *page,
                       const struct report_section *sections, struct result_set *const *results,
                       size_t count)
{
    struct page_data d = {sections, results, count, 0, 0};
    const struct result_set *matched = rows_of(&d, "matched");
    d.plays = number_at(matched, 0, "songplays");
    d.matched = number_at(matched, 0, "matched");
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>Sparkify listening report</title>\n<style>%s</style>\n</head>\n<body>\n"
            "<header><h1>Sparkify listening report</h1><p class=\"meta\">",
            style);
    fputs("Plays ", out);
    if (page->since || page->until) {
        fputs("from ", out);
        html_str(out, page->since ? page->since : "the first day");
        fputs(" to ", out);
        html_str(out, page->until ? page->until : "the last day");
    } else {
        fputs("of every day loaded", out);
    }
    fputs(" · warehouse ", out);
    html_str(out, page->target);
    fputs(" · generated ", out);
    html_str(out, page->generated_at);
    fputs("</p></header>\n<main>\n", out);
    write_kpis(out, &d);
    if (d.plays > 0)
        write_charts(out, &d);
    else
        write_no_plays(out, &d);

    fputs("</main>\n<footer>Made by sparkify from the star schema; every number is the one "
          "`sparkify report` prints.</footer>\n</body>\n</html>\n",
          out);
}
