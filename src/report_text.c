/* report_text.c - the report as aligned tables, CSV or JSON (see report_text.h).
 *
 * Text and CSV show each section under its title, the note of a section that counts only
 * matched plays right below it (wrapped to the terminal, a `# ` comment line in CSV); JSON keeps
 * the notes in their own object, so that every other key is a section's rows. One section
 * alone as CSV is plain RFC 4180, loadable by any CSV reader: one header row (also when there
 * are no rows), no titles, no notes.
 */
#include "report_text.h"

#include "buffer.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_WIDTH 80 /* or the terminal's, when narrower */

static const struct result_set *results_of(const struct report_section *sections,
                                           struct result_set *const *results, size_t count,
                                           const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(sections[i].name, name) == 0)
            return results[i];
    return NULL;
}

char *report_section_note(const struct report_section *sections, struct result_set *const *results,
                          size_t count, size_t which)
{
    if (!sections[which].matched_only)
        return NULL;
    const struct result_set *matched = results_of(sections, results, count, "matched");
    const struct result_set *tables = results_of(sections, results, count, "row_counts");
    if (!matched || !tables || result_set_rows(matched) == 0)
        return NULL;
    long long songs = 0;
    int name = result_set_column(tables, "table_name");
    for (size_t r = 0; name >= 0 && r < result_set_rows(tables); r++) {
        const struct cell *v = result_set_cell(tables, r, (size_t)name);
        if (v->type == CELL_TEXT && v->text.len == 5 && memcmp(v->text.ptr, "songs", 5) == 0)
            songs = (long long)result_set_number(tables, r, "row_count");
    }
    return report_matched_note((long long)result_set_number(matched, 0, "songplays"),
                               (long long)result_set_number(matched, 0, "matched"), songs);
}

static size_t shown_count(const struct report_section *sections, size_t count)
{
    size_t shown = 0;
    for (size_t i = 0; i < count; i++)
        shown += !sections[i].hidden;
    return shown;
}

char *report_text_untold_note(enum output_format format, const struct report_section *sections,
                              struct result_set *const *results, size_t count)
{
    if (format != FORMAT_CSV || shown_count(sections, count) != 1)
        return NULL;
    for (size_t i = 0; i < count; i++)
        if (!sections[i].hidden)
            return report_section_note(sections, results, count, i);
    return NULL;
}

/* `text` in lines of at most `width` characters, broken at spaces. */
static void print_wrapped(FILE *out, const char *text, size_t width)
{
    while (*text) {
        size_t len = strlen(text), cut = len;
        if (len > width) {
            cut = width;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0) /* one word longer than the line: left whole */
                cut = strcspn(text, " ");
        }
        fprintf(out, "%.*s\n", (int)cut, text);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

/* CSV rows with their header; the section's declared columns when the query returned none. */
static void print_csv(FILE *out, const struct report_section *section, const struct result_set *rs)
{
    if (result_set_columns(rs))
        result_set_print_csv(out, rs);
    else
        fprintf(out, "%s\r\n", section->columns);
}

static void print_json(FILE *out, const struct report_section *sections,
                       struct result_set *const *results, size_t count)
{
    cJSON *json = cJSON_CreateObject(), *notes = cJSON_CreateObject();
    for (size_t i = 0; i < count; i++) {
        if (sections[i].hidden)
            continue;
        cJSON_AddItemToObject(json, sections[i].name, result_set_json(results[i]));
        char *note = report_section_note(sections, results, count, i);
        if (note)
            cJSON_AddStringToObject(notes, sections[i].name, note);
        free(note);
    }
    cJSON_AddItemToObject(json, "notes", notes);
    char *text = cJSON_Print(json);
    fprintf(out, "%s\n", text);
    cJSON_free(text);
    cJSON_Delete(json);
}

void report_text_write(FILE *out, enum output_format format, const struct report_section *sections,
                       struct result_set *const *results, size_t count)
{
    if (format == FORMAT_JSON) {
        print_json(out, sections, results, count);
        return;
    }
    bool plain = format == FORMAT_CSV && shown_count(sections, count) == 1;
    size_t width = output_terminal_width(out);
    if (!width || width > NOTE_WIDTH)
        width = NOTE_WIDTH;
    bool first = true;
    for (size_t i = 0; i < count; i++) {
        if (sections[i].hidden)
            continue;
        if (plain) {
            print_csv(out, &sections[i], results[i]);
            continue;
        }
        char *note = report_section_note(sections, results, count, i);
        if (format == FORMAT_CSV) {
            fprintf(out, "# %s\r\n", sections[i].title);
            if (note)
                fprintf(out, "# %s\r\n", note);
            print_csv(out, &sections[i], results[i]);
            fprintf(out, "\r\n");
        } else {
            fprintf(out, "%s%s\n", first ? "" : "\n", sections[i].title);
            if (note)
                print_wrapped(out, note, width);
            output_print(out, results[i], format);
        }
        free(note);
        first = false;
    }
}
