/* fuzz_json.cpp - libFuzzer target for the JSON layer (src/lib/parse/json.cpp).
 *
 * Each input is parsed as an event line (json_parse_record with the event spec, the input cut
 * at its first newline as the line reader would) and as a song file (json_parse_objects with
 * the song spec), each from its own padded copy as the callers provide. Besides what the
 * sanitizers catch, it checks the promises callers rely on: a refusal has a reason of one
 * non-empty line; song records come on ascending lines within the input; every text cell can
 * be read whole; the same line parsed again gets the same answer. And it holds the parser to
 * RFC 8259 against a second opinion, simdjson's DOM parser, which validates whole documents:
 * what the parser accepts, DOM accepts too (but for numbers no double holds, which DOM
 * refuses: see may_hold_a_huge_number); what the parser calls malformed, DOM refuses. Built and run
 * by tests/fuzz/run.sh. C++ only for the DOM parser; the JSON layer is driven through its C
 * interface.
 */
/* record.h has no C++ guards of its own; json.h does. */
extern "C" {
#include "record.h"
}
#include "json.h"

#define SIMDJSON_EXCEPTIONS 0
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace
{

struct json_parser *parser;
struct field_spec events, songs;
simdjson::dom::parser dom;
volatile unsigned char sink;

[[noreturn]] void fail(const char *what, const char *reason)
{
    std::fprintf(stderr, "fuzz_json: %s (reason: \"%s\")\n", what, reason ? reason : "");
    std::abort();
}

void check_reason(const char *reason)
{
    if (reason[0] == '\0')
        fail("a refusal without a reason", reason);
    if (std::strchr(reason, '\n') || std::strchr(reason, '\r'))
        fail("a reason of more than one line", reason);
}

/* A refusal for the JSON itself, as opposed to a value COPY cannot store or a limit: the
 * reason ends with one of these (its start may quote the input, which could say anything). */
bool says_malformed(const char *reason)
{
    static const char *const endings[] = {
        "malformed JSON: unbalanced or incomplete object",
        "malformed JSON: truncated or unbalanced object",
        "malformed JSON: unclosed string",
        "malformed JSON: bad string escape",
        "malformed JSON: control character inside a string",
        "malformed JSON: bad literal (true/false/null)",
        "malformed JSON: bad number",
        "invalid UTF-8",
        "unexpected content after the JSON object",
    };
    size_t len = std::strlen(reason);
    for (const char *ending : endings) {
        size_t n = std::strlen(ending);
        if (len >= n && std::strcmp(reason + len - n, ending) == 0)
            return true;
    }
    return false;
}

/* Whether `s` may hold a valid number that simdjson's DOM parser refuses (NUMBER_ERROR) though
 * the JSON layer accepts it: an integer beyond 64 bits (19 digits or more: DOM refuses
 * -9792270368547758087, below INT64_MIN), or one with an exponent of 3 digits or more (beyond
 * a double). Below that, DOM reads every valid number, so its NUMBER_ERROR is a malformed one. */
bool may_hold_a_huge_number(const char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        run = s[i] >= '0' && s[i] <= '9' ? run + 1 : 0;
        if (run >= 19)
            return true;
        if (run == 3) {
            size_t start = i - 2;
            if (start > 0 && (s[start - 1] == '+' || s[start - 1] == '-'))
                start--;
            if (start > 0 && (s[start - 1] == 'e' || s[start - 1] == 'E'))
                return true;
        }
    }
    return false;
}

/* Reads every byte of every text cell, so that AddressSanitizer sees a dangling one. */
void touch_cells(const struct cell *cells, size_t count)
{
    unsigned char sum = 0;
    for (size_t i = 0; i < count; i++) {
        if (cells[i].type > CELL_TEXT)
            fail("a cell of no known type", nullptr);
        if (cells[i].type == CELL_TEXT)
            for (size_t j = 0; j < cells[i].text.len; j++)
                sum ^= static_cast<unsigned char>(cells[i].text.ptr[j]);
    }
    sink = sum;
}

/* A copy of `data` followed by JSON_PADDING zero bytes, as the readers provide. */
char *padded_copy(const uint8_t *data, size_t size)
{
    char *copy = static_cast<char *>(std::malloc(size + JSON_PADDING));
    if (!copy)
        std::abort();
    if (size)
        std::memcpy(copy, data, size);
    std::memset(copy + size, 0, JSON_PADDING);
    return copy;
}

void fuzz_record(const uint8_t *data, size_t size)
{
    const void *newline = size ? std::memchr(data, '\n', size) : nullptr;
    size_t len = newline ? static_cast<size_t>(static_cast<const uint8_t *>(newline) - data) : size;
    char *line = padded_copy(data, len);
    struct cell cells[EVENT_FIELD_COUNT];
    char reason[256], again[256];
    int rc = json_parse_record(parser, line, len, &events, cells, reason, sizeof reason);
    if (rc == 0)
        touch_cells(cells, EVENT_FIELD_COUNT);
    else if (rc == -1)
        check_reason(reason);
    else
        fail("json_parse_record returned neither 0 nor -1", nullptr);

    simdjson::dom::element root;
    simdjson::error_code e = dom.parse(line, len, false).get(root);
    if (rc == 0 && e != simdjson::SUCCESS &&
        !(e == simdjson::NUMBER_ERROR && may_hold_a_huge_number(line, len)))
        fail("accepted a line simdjson's DOM parser refuses", simdjson::error_message(e));
    if (rc == 0 && e == simdjson::SUCCESS && !root.is_object())
        fail("accepted a line that is not an object", nullptr);
    if (rc == -1 && says_malformed(reason) && e == simdjson::SUCCESS)
        fail("called malformed a line simdjson's DOM parser accepts", reason);

    int rc_again = json_parse_record(parser, line, len, &events, cells, again, sizeof again);
    if (rc_again != rc || (rc && std::strcmp(reason, again) != 0))
        fail("the same line parsed twice gave two answers", again);
    std::free(line);
}

struct song_walk {
    size_t last_line, lines, records;
};

int on_song(void *ctx, const struct cell *cells, size_t line)
{
    song_walk *walk = static_cast<song_walk *>(ctx);
    if (line < walk->last_line || line < 1 || line > walk->lines)
        fail("a song record on a line out of order or out of the input", nullptr);
    walk->last_line = line;
    walk->records++;
    touch_cells(cells, SONG_FIELD_COUNT);
    return 0;
}

/* After an accepted song file: the DOM parser finds as many documents, all valid (unless one
 * may hold a number it refuses). */
void check_song_documents(const char *file, size_t size, size_t records)
{
    if (size >= 3 && std::memcmp(file, "\xEF\xBB\xBF", 3) == 0) {
        file += 3;
        size -= 3;
    }
    simdjson::dom::document_stream stream;
    if (dom.parse_many(file, size, size < 1024 ? 1024 : size).get(stream))
        fail("accepted a song file simdjson's DOM parser cannot start", nullptr);
    size_t documents = 0;
    for (auto document : stream) {
        simdjson::dom::element root;
        simdjson::error_code e = document.get(root);
        if (e == simdjson::NUMBER_ERROR && may_hold_a_huge_number(file, size))
            return;
        if (e)
            fail("accepted a song file with a document DOM refuses", simdjson::error_message(e));
        documents++;
    }
    if (documents != records || stream.truncated_bytes() != 0)
        fail("accepted a song file DOM splits otherwise", nullptr);
}

void fuzz_song_file(const uint8_t *data, size_t size)
{
    char *file = padded_copy(data, size);
    song_walk walk = {1, 1, 0};
    for (size_t i = 0; i < size; i++)
        walk.lines += data[i] == '\n';
    size_t bad_line = 0;
    char reason[256];
    int rc = json_parse_objects(parser, file, size, &songs, on_song, &walk, &bad_line, reason,
                                sizeof reason);
    if (rc == -1) {
        check_reason(reason);
        if (bad_line < 1 || bad_line > walk.lines)
            fail("a bad line out of the input", reason);
    } else if (rc == 0) {
        check_song_documents(file, size, walk.records);
    } else {
        fail("json_parse_objects returned a status its callback never gave", nullptr);
    }
    std::free(file);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!parser) {
        parser = json_parser_new();
        field_spec_events(&events);
        field_spec_songs(&songs);
    }
    fuzz_record(data, size);
    fuzz_song_file(data, size);
    return 0;
}
