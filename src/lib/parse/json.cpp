/* json.cpp - JSON records through simdjson On-Demand; the project's one C++ file.
 *
 * On-Demand parses only what we read: each record's fields are walked once, in document
 * order, and matched against the spec's keys starting from the column after the previous
 * match (real files keep the keys in order, so the match is usually the first compare).
 * Pitfalls handled here: On-Demand does not look at values it is not asked for, so every
 * value of a known key is read fully and every other value (unknown keys, nested values kept
 * as text) is walked by the check_* functions, one per JSON type, down to each scalar; a
 * document followed by stray bytes is caught with current_location(); iterate_many silently
 * drops a truncated last document unless truncated_bytes() is checked. No exceptions cross
 * into C: simdjson is compiled without them, so a simdjson_result can only be read with
 * get() and its error code (an implicit conversion, which would throw, does not compile).
 */
#include "json.h"

/* Must precede the include: the throwing conversions of simdjson_result are then absent. */
#define SIMDJSON_EXCEPTIONS 0
#include <simdjson.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

using namespace simdjson;

#define SPARKIFY_STR2(x) #x
#define SPARKIFY_STR(x) SPARKIFY_STR2(x)

static_assert(JSON_PADDING >= SIMDJSON_PADDING, "JSON_PADDING must cover simdjson's padding");

struct json_parser {
    ondemand::parser parser;
    /* Re-reads a nested value kept as text, to check it (see check_kept_text). */
    ondemand::parser nested;
    /* The text of coerced values ("true", raw object JSON) that must outlive one field. */
    std::string scratch[FIELD_SPEC_MAX];
};

extern "C" struct json_parser *json_parser_new(void)
{
    return new (std::nothrow) json_parser();
}

extern "C" void json_parser_free(struct json_parser *p)
{
    delete p;
}

namespace
{

/* A short, printable excerpt of a value for error messages. */
std::string excerpt(std::string_view v)
{
    std::string out;
    for (char c : v.substr(0, 40))
        out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
    if (v.size() > 40)
        out += "...";
    return out;
}

std::string_view trim_token(std::string_view token)
{
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r' ||
                              token.back() == '\n'))
        token.remove_suffix(1);
    return token;
}

const char *describe(error_code e)
{
    switch (e) {
    case DEPTH_ERROR:
        return "nested too deeply (more than " SPARKIFY_STR(JSON_MAX_DEPTH) " levels)";
    case UTF8_ERROR:
        return "invalid UTF-8";
    case TAPE_ERROR:
    case INCOMPLETE_ARRAY_OR_OBJECT:
        return "malformed JSON: unbalanced or incomplete object";
    case UNCLOSED_STRING:
        return "malformed JSON: unclosed string";
    case STRING_ERROR:
        return "malformed JSON: bad string escape";
    case UNESCAPED_CHARS:
        return "malformed JSON: control character inside a string";
    case T_ATOM_ERROR:
    case F_ATOM_ERROR:
    case N_ATOM_ERROR:
        return "malformed JSON: bad literal (true/false/null)";
    case NUMBER_ERROR:
        return "malformed JSON: bad number";
    case EMPTY:
        return "empty document";
    default:
        return error_message(e);
    }
}

/* Why a token that cannot start a JSON value (type() failed on it) is wrong. */
const char *describe_bad_start(std::string_view token)
{
    char c = token.empty() ? '\0' : token[0];
    if (c == '+' || c == '.')
        return describe(NUMBER_ERROR);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return describe(T_ATOM_ERROR);
    return describe(TAPE_ERROR);
}

/* AWS, "Preparing your input data"
 * (https://docs.aws.amazon.com/redshift/latest/dg/t_preparing-input-data.html): "If your data
 * includes null terminators, also referred to as NUL (UTF-8 0000) ... If you do not use NULL
 * AS, null terminators cause COPY to fail". Stored text with U+0000 is therefore a bad record
 * on every target: SQLite would keep it (a second user that prints like the first) and
 * PostgreSQL would fail the whole run. */
const char *const nul_reason = "contains a NUL character (U+0000), which COPY refuses";

bool has_nul(std::string_view s)
{
    return std::memchr(s.data(), '\0', s.size()) != nullptr;
}

/* RFC 8259's number grammar, only for the numbers simdjson refuses because a double cannot
 * hold them (1e400, an exponent of 20 digits): they are valid JSON all the same. */
bool is_json_number(std::string_view s)
{
    size_t i = 0;
    auto digits = [&s, &i] {
        size_t from = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9')
            i++;
        return i > from;
    };
    if (i < s.size() && s[i] == '-')
        i++;
    if (i < s.size() && s[i] == '0')
        i++;
    else if (!digits())
        return false;
    if (i < s.size() && s[i] == '.' && (++i, !digits()))
        return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < s.size() && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!digits())
            return false;
    }
    return i == s.size();
}

/* ---- the check of values that are not read into a column ----
 * Each returns nullptr when the value is valid JSON, or why it is not. `level` is the nesting
 * level the value has if it is an object or array (the record's own object is level 1);
 * `kept` says its text is stored, so that a NUL in it is refused. The entry points are cold
 * and never inlined: records whose keys are all known do not reach them, and inlined into
 * read_value or read_object they would cost those every call (more registers to save). */

[[gnu::cold, gnu::noinline]] const char *check_value(ondemand::value value, int level, bool kept);

const char *check_object(ondemand::value &value, int level, bool kept)
{
    if (level > JSON_MAX_DEPTH)
        return describe(DEPTH_ERROR);
    ondemand::object object;
    error_code e = value.get_object().get(object);
    if (e)
        return describe(e);
    for (auto field_result : object) {
        ondemand::field field;
        std::string_view key;
        if ((e = std::move(field_result).get(field)) || (e = field.unescaped_key().get(key)))
            return describe(e);
        if (kept && has_nul(key))
            return nul_reason;
        if (const char *why = check_value(field.value(), level + 1, kept))
            return why;
    }
    return nullptr;
}

const char *check_array(ondemand::value &value, int level, bool kept)
{
    if (level > JSON_MAX_DEPTH)
        return describe(DEPTH_ERROR);
    ondemand::array array;
    error_code e = value.get_array().get(array);
    if (e)
        return describe(e);
    for (auto element_result : array) {
        ondemand::value element;
        if ((e = std::move(element_result).get(element)))
            return describe(e);
        if (const char *why = check_value(element, level + 1, kept))
            return why;
    }
    return nullptr;
}

const char *check_string(ondemand::value &value, bool kept)
{
    std::string_view s;
    error_code e = value.get_string().get(s);
    if (e)
        return describe(e);
    return kept && has_nul(s) ? nul_reason : nullptr;
}

[[gnu::cold, gnu::noinline]] const char *check_number(ondemand::value &value)
{
    double ignored;
    if (!value.get_double().get(ignored) || is_json_number(trim_token(value.raw_json_token())))
        return nullptr;
    return describe(NUMBER_ERROR);
}

/* true, false and null exactly: simdjson answers INCORRECT_TYPE for "tru" or "nul". */
const char *check_literal(ondemand::value &value, ondemand::json_type type)
{
    bool b;
    error_code e =
        type == ondemand::json_type::null ? value.is_null().get(b) : value.get_bool().get(b);
    if (e || (type == ondemand::json_type::null && !b))
        return describe(N_ATOM_ERROR);
    return nullptr;
}

/* `value` by copy: On-Demand values are small handles, and a field's value is a temporary. */
[[gnu::cold, gnu::noinline]] const char *check_value(ondemand::value value, int level, bool kept)
{
    ondemand::json_type type;
    if (value.type().get(type))
        return describe_bad_start(value.raw_json_token());
    switch (type) {
    case ondemand::json_type::object:
        return check_object(value, level, kept);
    case ondemand::json_type::array:
        return check_array(value, level, kept);
    case ondemand::json_type::string:
        return check_string(value, kept);
    case ondemand::json_type::number:
        return check_number(value);
    case ondemand::json_type::boolean:
    case ondemand::json_type::null:
        return check_literal(value, type);
    }
    return describe(TAPE_ERROR);
}

/* A nested object or array kept as text was taken whole with raw_json(), which skips over
 * it unchecked: it is read again with a second parser and checked like any other value.
 * `text` receives the raw JSON and simdjson's padding after it. */
[[gnu::cold, gnu::noinline]] const char *check_kept_text(json_parser *p, std::string_view raw,
                                                         std::string &text)
{
    text.assign(raw.data(), raw.size());
    text.append(SIMDJSON_PADDING, '\0');
    ondemand::document doc;
    ondemand::value root;
    error_code e = p->nested.iterate(text.data(), raw.size(), text.size()).get(doc);
    if (!e)
        e = doc.get_value().get(root);
    if (e)
        return describe(e);
    /* The record's object is level 1: a nested value under its keys starts at level 2. */
    return check_value(root, 2, true);
}

/* The cold half of read_double. simdjson refuses some valid JSON numbers: those beyond a
 * double (1e400, which no numeric column can store either) and those with an exponent of 20
 * digits or more (1e00000000000000000001, which strtod reads). */
[[gnu::cold, gnu::noinline]] bool read_double_slowly(std::string_view token, double *d,
                                                     bool *malformed)
{
    *malformed = !is_json_number(token);
    if (*malformed)
        return false;
    std::string text(token);
    *d = std::strtod(text.c_str(), nullptr);
    return std::isfinite(*d);
}

/* A JSON number as a double; false when it is malformed (*malformed) or beyond a double.
 * Inlined: a call on every numeric field cost more than the read itself. */
[[gnu::always_inline]] inline bool read_double(ondemand::value &value, std::string_view token,
                                               double *d, bool *malformed)
{
    return !value.get_double().get(*d) || read_double_slowly(token, d, malformed);
}

/* Whether a string in a numeric column is blank: empty, or white space only. COPY loads it as
 * NULL: "Empty fields for other data types, such as INT, are always loaded with NULL" (EMPTYASNULL)
 * and "Blank fields for other data types, such as INT, are always loaded with NULL", blank fields
 * being those "which consist of only white space characters" (BLANKSASNULL,
 * https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html). The page
 * names no set of white space characters: its example is spaces; the ASCII ones (space, tab, line
 * feed, carriage return, vertical tab, form feed) are taken, and other Unicode spaces (U+00A0, ...)
 * are not blank, so a string of them is refused as before. */
bool is_blank(std::string_view s)
{
    for (char c : s)
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f')
            return false;
    return true;
}

/* Parses a whole string as a number the way COPY converts numeric text. The conversion page
 * (see is_blank) says nothing of the text of a number, so leading or trailing spaces, "+1", "1e3"
 * in an integer column, hex and "inf" keep sparkify's rules: spaces around a number are refused,
 * "+1" is accepted, an exponent or a fraction is refused in an integer column, and a double column
 * takes what strtod reads (hex floats such as "0x1p3" too) but infinities and NaN. */
bool parse_numeric_text(std::string_view s, enum column_type type, struct cell *out)
{
    char buf[64];
    if (s.empty() || s.size() >= sizeof buf)
        return false;
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    char *end = nullptr;
    errno = 0;
    if (type == COLUMN_DOUBLE) {
        double d = std::strtod(buf, &end);
        if (end != buf + s.size() || errno == ERANGE || !std::isfinite(d) ||
            std::isspace((unsigned char)buf[0]))
            return false;
        out->type = CELL_DOUBLE;
        out->d = d;
        return true;
    }
    long long v = std::strtoll(buf, &end, 10);
    if (end != buf + s.size() || errno == ERANGE || std::isspace((unsigned char)buf[0]))
        return false;
    out->type = CELL_INT;
    out->i = v;
    return true;
}

bool int_fits(enum column_type type, int64_t v)
{
    return type != COLUMN_INT || (v >= INT32_MIN && v <= INT32_MAX);
}

const char *type_name(enum column_type type)
{
    switch (type) {
    case COLUMN_INT:
        return "an integer";
    case COLUMN_BIGINT:
        return "a big integer";
    case COLUMN_DOUBLE:
        return "a number";
    default:
        return "text";
    }
}

/* ---- the read of values into columns ----
 * One function per JSON type behind read_value's switch (the shape of DuckDB's
 * json_transform.cpp): each reads `value` into `out` as COPY stores it in a column of `type`, or
 * returns false with `reason`. read_value is one call per field, and every reader is inlined
 * into it: a second call per field would cost more than most reads. Even booleans and nested
 * values, which the real files never hold, are better inlined: as calls, they cost the other
 * types' reads 0.3 instructions a field (callgrind on an AVX2 build, 100,000 generated events), the
 * switch's registers being allocated around them. set_mismatch is out of line, and that measured
 * better too. */

/* A value of the wrong JSON type for its column, a bad record: cold. */
[[gnu::cold, gnu::noinline]] void set_mismatch(std::string &reason, enum column_type type,
                                               std::string_view found)
{
    reason = std::string("expected ") + type_name(type) + ", found ";
    reason += found;
}

[[gnu::always_inline]] inline bool read_null(ondemand::value &value, struct cell *out,
                                             std::string &reason)
{
    bool is_null;
    if (value.is_null().get(is_null) || !is_null) {
        reason = describe(N_ATOM_ERROR);
        return false;
    }
    out->type = CELL_NULL;
    return true;
}

/* A string is text in a text column. In a numeric column, a blank one is NULL and any other is
 * the number it spells (parse_numeric_text). */
[[gnu::always_inline]] inline bool read_string(ondemand::value &value, enum column_type type,
                                               struct cell *out, std::string &reason)
{
    std::string_view s;
    if (error_code e = value.get_string().get(s)) {
        reason = describe(e);
        return false;
    }
    if (type == COLUMN_TEXT) {
        /* Stage 1 refuses raw control characters in strings, so only an escape can make a
         * NUL: a string as long as its token between the quotes has none (the fast path). */
        if (value.raw_json_token().size() != s.size() + 2 && has_nul(s)) {
            reason = nul_reason;
            return false;
        }
        out->type = CELL_TEXT;
        out->text.ptr = s.data();
        out->text.len = s.size();
        return true;
    }
    if (is_blank(s)) {
        out->type = CELL_NULL;
        return true;
    }
    if (!parse_numeric_text(s, type, out) || (out->type == CELL_INT && !int_fits(type, out->i))) {
        set_mismatch(reason, type, "\"" + excerpt(s) + "\"");
        return false;
    }
    return true;
}

/* A number in a text column keeps its text: any valid JSON number, even one no double holds
 * (1e400). */
[[gnu::always_inline]] inline bool number_as_text(ondemand::value &value, std::string_view token,
                                                  struct cell *out, std::string &reason)
{
    if (const char *why = check_number(value)) {
        reason = why;
        return false;
    }
    out->type = CELL_TEXT;
    out->text.ptr = token.data();
    out->text.len = token.size();
    return true;
}

[[gnu::always_inline]] inline bool number_as_double(ondemand::value &value, std::string_view token,
                                                    struct cell *out, std::string &reason)
{
    double d;
    bool malformed;
    if (!read_double(value, token, &d, &malformed)) {
        reason = malformed ? describe(NUMBER_ERROR) : "number out of range: " + excerpt(token);
        return false;
    }
    out->type = CELL_DOUBLE;
    out->d = d;
    return true;
}

/* An integer column takes a JSON integer that fits it, and an integral double such as
 * 1541077528796.0 as the integer it is. */
[[gnu::always_inline]] inline bool number_as_integer(ondemand::value &value, std::string_view token,
                                                     enum column_type type, struct cell *out,
                                                     std::string &reason)
{
    int64_t i;
    if (!value.get_int64().get(i)) {
        if (!int_fits(type, i)) {
            reason = std::string("integer out of range: ") + excerpt(token);
            return false;
        }
        out->type = CELL_INT;
        out->i = i;
        return true;
    }
    double d;
    bool malformed;
    if (!read_double(value, token, &d, &malformed)) {
        reason = malformed ? describe(NUMBER_ERROR) : "integer out of range: " + excerpt(token);
        return false;
    }
    if (d != std::floor(d) || d < -9.2e18 || d > 9.2e18 ||
        !int_fits(type, static_cast<int64_t>(d))) {
        set_mismatch(reason, type, excerpt(token));
        return false;
    }
    out->type = CELL_INT;
    out->i = static_cast<int64_t>(d);
    return true;
}

[[gnu::always_inline]] inline bool read_number(ondemand::value &value, enum column_type type,
                                               struct cell *out, std::string &reason)
{
    std::string_view token = trim_token(value.raw_json_token());
    if (type == COLUMN_TEXT)
        return number_as_text(value, token, out, reason);
    if (type == COLUMN_DOUBLE)
        return number_as_double(value, token, out, reason);
    return number_as_integer(value, token, type, out, reason);
}

/* true or false, as that text in a text column; refused in a numeric one. */
[[gnu::always_inline]] inline bool read_bool(ondemand::value &value, enum column_type type,
                                             struct cell *out, std::string &reason)
{
    bool b;
    if (value.get_bool().get(b)) {
        reason = describe(T_ATOM_ERROR);
        return false;
    }
    if (type != COLUMN_TEXT) {
        set_mismatch(reason, type, b ? "true" : "false");
        return false;
    }
    out->type = CELL_TEXT;
    out->text.ptr = b ? "true" : "false";
    out->text.len = b ? 4 : 5;
    return true;
}

/* COPY stores a nested object or array in a text column as its JSON text, which is kept in the
 * column's scratch string; a numeric column refuses it. */
[[gnu::always_inline]] inline bool read_nested(json_parser *p, size_t column,
                                               ondemand::value &value, bool is_object,
                                               enum column_type type, struct cell *out,
                                               std::string &reason)
{
    if (type != COLUMN_TEXT) {
        set_mismatch(reason, type, is_object ? "an object" : "an array");
        return false;
    }
    std::string_view raw;
    error_code e;
    if (is_object) {
        ondemand::object o;
        e = value.get_object().get(o);
        if (!e)
            e = o.raw_json().get(raw);
    } else {
        ondemand::array a;
        e = value.get_array().get(a);
        if (!e)
            e = a.raw_json().get(raw);
    }
    if (e) {
        reason = describe(e);
        return false;
    }
    /* raw_json() runs up to the next token: the whitespace after the value is not its. */
    raw = trim_token(raw);
    std::string &text = p->scratch[column];
    if (const char *why = check_kept_text(p, raw, text)) {
        reason = why;
        return false;
    }
    out->type = CELL_TEXT;
    out->text.ptr = text.data();
    out->text.len = raw.size();
    return true;
}

/* Reads one value into `out` following the column type; returns false with `reason`. */
bool read_value(json_parser *p, size_t column, ondemand::value &value, enum column_type type,
                struct cell *out, std::string &reason)
{
    ondemand::json_type jt;
    if (value.type().get(jt)) {
        reason = describe_bad_start(value.raw_json_token());
        return false;
    }
    switch (jt) {
    case ondemand::json_type::null:
        return read_null(value, out, reason);
    case ondemand::json_type::string:
        return read_string(value, type, out, reason);
    case ondemand::json_type::number:
        return read_number(value, type, out, reason);
    case ondemand::json_type::boolean:
        return read_bool(value, type, out, reason);
    case ondemand::json_type::object:
    case ondemand::json_type::array:
        return read_nested(p, column, value, jt == ondemand::json_type::object, type, out, reason);
    }
    reason = "unexpected JSON value";
    return false;
}

size_t find_column(const struct field_spec *spec, std::string_view key, size_t hint)
{
    for (size_t n = 0; n < spec->count; n++) {
        size_t i = (hint + n) % spec->count;
        if (spec->key_lens[i] == key.size() &&
            std::memcmp(spec->keys[i], key.data(), key.size()) == 0)
            return i;
    }
    return SIZE_MAX;
}

/* The cold half of fits_column: a value over its column's size is refused, as Redshift refuses
 * it ("An attempt to store a longer string into a column of these types results in an error,
 * unless the extra characters are all spaces (blanks), in which case the string is truncated to
 * the maximum length", https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html),
 * without TRUNCATECOLUMNS, which sparkify's COPY does not use. Sizes are bytes, not characters:
 * "CHAR and VARCHAR data types are defined in terms of bytes, not characters" (same page). */
[[gnu::cold, gnu::noinline]] bool fits_column_slowly(struct cell *c, uint32_t max_bytes,
                                                     std::string &reason)
{
    if (text_length_without_trailing_spaces(c->text.ptr, c->text.len) > max_bytes) {
        reason = "longer than " + std::to_string(max_bytes) + " bytes";
        return false;
    }
    c->text.len = max_bytes;
    return true;
}

/* Whether a value fits its column of `max_bytes` (0: no limit), as fits_column_slowly says. */
inline bool fits_column(struct cell *c, uint32_t max_bytes, std::string &reason)
{
    return c->type != CELL_TEXT || max_bytes == 0 || c->text.len <= max_bytes ||
           fits_column_slowly(c, max_bytes, reason);
}

/* Unknown keys are ignored, as COPY does, but their values must be valid JSON. The key is any
 * text: excerpt() keeps the reason short and on one line. Cold, apart from read_object's loop,
 * for the same reason as check_value. */
[[gnu::cold, gnu::noinline]] bool check_unknown(ondemand::field &field, std::string_view key,
                                                std::string &reason)
{
    if (const char *why = check_value(field.value(), 2, false)) {
        reason = "field '" + excerpt(key) + "': " + why;
        return false;
    }
    return true;
}

/* Walks one object document into cells. */
template <typename Doc>
bool read_object(json_parser *p, Doc &doc, const struct field_spec *spec, struct cell *cells,
                 std::string &reason)
{
    for (size_t i = 0; i < spec->count; i++)
        cells[i].type = CELL_NULL;
    ondemand::json_type jt;
    error_code e = doc.type().get(jt);
    if (e) {
        reason = describe(e);
        return false;
    }
    if (jt != ondemand::json_type::object) {
        reason = "expected a JSON object";
        return false;
    }
    ondemand::object object;
    if ((e = doc.get_object().get(object))) {
        reason = describe(e);
        return false;
    }
    size_t hint = 0;
    for (auto field_result : object) {
        ondemand::field field;
        if ((e = std::move(field_result).get(field))) {
            reason = describe(e);
            return false;
        }
        std::string_view key;
        if ((e = field.unescaped_key().get(key))) {
            reason = describe(e);
            return false;
        }
        size_t column = find_column(spec, key, hint);
        if (column == SIZE_MAX) {
            if (!check_unknown(field, key, reason))
                return false;
            continue;
        }
        hint = column + 1;
        ondemand::value value = field.value();
        if (!read_value(p, column, value, spec->types[column], &cells[column], reason) ||
            !fits_column(&cells[column], spec->text_bytes ? spec->text_bytes[column] : 0, reason)) {
            reason = "field '" + std::string(key) + "': " + reason;
            return false;
        }
    }
    return true;
}

void set_reason(char *out, size_t size, const std::string &reason)
{
    std::snprintf(out, size, "%s", reason.c_str());
}

const char *const too_large = "JSON object larger than 4 MB (Redshift COPY's limit)";

/* Byte by byte: memcmp would be a call on every record. */
bool has_bom(const char *buf, size_t len)
{
    const unsigned char *b = reinterpret_cast<const unsigned char *>(buf);
    return len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF;
}

} // namespace

extern "C" int json_parse_record(struct json_parser *p, const char *line, size_t len,
                                 const struct field_spec *spec, struct cell *cells, char *reason,
                                 size_t reason_size)
{
    if (len > JSON_MAX_RECORD) {
        set_reason(reason, reason_size, too_large);
        return -1;
    }
    if (has_bom(line, len)) {
        set_reason(reason, reason_size,
                   "a UTF-8 byte order mark (BOM) is allowed only at the start of a file");
        return -1;
    }
    ondemand::document doc;
    error_code e = p->parser.iterate(line, len, len + JSON_PADDING).get(doc);
    std::string why;
    if (e) {
        set_reason(reason, reason_size, describe(e));
        return -1;
    }
    if (!read_object(p, doc, spec, cells, why)) {
        set_reason(reason, reason_size, why);
        return -1;
    }
    const char *rest;
    if (!doc.current_location().get(rest)) {
        /* current_location() only succeeds while unread input remains. */
        set_reason(reason, reason_size, "unexpected content after the JSON object");
        return -1;
    }
    return 0;
}

static size_t line_at(const char *buf, size_t offset, size_t *counted_to, size_t *line)
{
    for (size_t i = *counted_to; i < offset; i++)
        if (buf[i] == '\n')
            (*line)++;
    *counted_to = offset;
    return *line;
}

extern "C" int json_parse_window(struct json_parser *p, const char *buf, size_t len,
                                 struct json_window *w, const struct field_spec *spec,
                                 json_record_fn fn, void *ctx, size_t *bad_line, char *reason,
                                 size_t reason_size)
{
    /* A byte order mark is no JSON, but editors write one at the start of a file. It holds no
     * newline, so line numbers counted from after it are unchanged. */
    size_t skipped = 0;
    if (!w->final) {
        /* The window may end inside a byte order mark or a character: what is cut belongs to
         * the object the next window finishes, and is not invalid UTF-8. */
        if (w->at_start && len < 3 && std::memcmp(buf, "\xEF\xBB\xBF", len) == 0) {
            w->consumed = w->lines = 0;
            return 0;
        }
        size_t lead = len;
        while (lead > 0 && len - lead < 4 &&
               (static_cast<unsigned char>(buf[lead - 1]) & 0xC0) == 0x80)
            lead--;
        if (lead > 0 && static_cast<unsigned char>(buf[lead - 1]) >= 0xC0) {
            unsigned char c = static_cast<unsigned char>(buf[lead - 1]);
            size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (len - (lead - 1) < need)
                len = lead - 1;
        }
    }
    if (w->at_start && has_bom(buf, len)) {
        buf += 3;
        len -= 3;
        skipped = 3;
    }
    size_t line = w->first_line, counted_to = 0;
    *bad_line = line;
    w->consumed = skipped;
    size_t start = 0;
    while (start < len && std::isspace(static_cast<unsigned char>(buf[start])))
        start++;
    if (start == len) {
        w->consumed += len;
        w->lines = line_at(buf, len, &counted_to, &line) - w->first_line;
        if (w->final && w->documents == 0) {
            set_reason(reason, reason_size, "no JSON object in the file");
            return -1;
        }
        return 0;
    }
    /* A batch as large as the window: documents of any size up to it. */
    size_t batch = len < 1024 ? 1024 : len;
    ondemand::document_stream stream;
    error_code e = p->parser.iterate_many(buf, len, batch).get(stream);
    if (e) {
        set_reason(reason, reason_size, describe(e));
        return -1;
    }
    struct cell cells[FIELD_SPEC_MAX];
    std::string why;
    for (auto it = stream.begin(); it != stream.end(); ++it) {
        /* The first document's index is where the batch starts, blank lines before it
         * included: its line is that of its first byte. */
        size_t index = it.current_index();
        while (index < len && std::isspace(static_cast<unsigned char>(buf[index])))
            index++;
        size_t doc_line = line_at(buf, index, &counted_to, &line);
        *bad_line = doc_line;
        ondemand::document_reference doc;
        if ((e = (*it).get(doc))) {
            set_reason(reason, reason_size, describe(e));
            return -1;
        }
        /* Only a window over the limit can hold an object over it: smaller ones skip the scan
         * of source(), which walks the object's structure once more. */
        if (len > JSON_MAX_RECORD && it.source().size() > JSON_MAX_RECORD) {
            set_reason(reason, reason_size, too_large);
            return -1;
        }
        if (!read_object(p, doc, spec, cells, why)) {
            set_reason(reason, reason_size, why);
            return -1;
        }
        w->documents++;
        int rc = fn(ctx, cells, doc_line);
        if (rc)
            return rc;
    }
    size_t tail = stream.truncated_bytes();
    if (tail > 0 && (w->final || tail > JSON_MAX_RECORD)) {
        size_t offset = len - tail;
        *bad_line = line_at(buf, offset, &counted_to, &line);
        set_reason(reason, reason_size,
                   w->final ? "malformed JSON: truncated or unbalanced object" : too_large);
        return -1;
    }
    /* What follows the last whole object is the start of one the next window finishes. */
    w->consumed += len - tail;
    w->lines = line_at(buf, len - tail, &counted_to, &line) - w->first_line;
    if (w->final && w->documents == 0) {
        set_reason(reason, reason_size, "no JSON object in the file");
        return -1;
    }
    return 0;
}

extern "C" int json_parse_objects(struct json_parser *p, const char *buf, size_t len,
                                  const struct field_spec *spec, json_record_fn fn, void *ctx,
                                  size_t *bad_line, char *reason, size_t reason_size)
{
    struct json_window whole = {1, true, true, 0, 0, 0};
    return json_parse_window(p, buf, len, &whole, spec, fn, ctx, bad_line, reason, reason_size);
}

extern "C" int json_parse_jsonpaths(const char *buf, size_t len, char **paths, size_t max,
                                    char *reason, size_t reason_size)
{
    padded_string copy(buf, len);
    ondemand::parser parser;
    ondemand::document doc;
    error_code e = parser.iterate(copy).get(doc);
    ondemand::array array;
    if (!e)
        e = doc["jsonpaths"].get_array().get(array);
    if (e) {
        std::snprintf(reason, reason_size,
                      "not a JSONPaths file (expected {\"jsonpaths\": [...]}): %s", describe(e));
        return -1;
    }
    size_t count = 0;
    for (auto item : array) {
        std::string_view path;
        if ((e = item.get_string().get(path))) {
            std::snprintf(reason, reason_size, "jsonpaths entry %zu is not a string: %s", count + 1,
                          describe(e));
            goto fail;
        }
        if (count == max) {
            std::snprintf(reason, reason_size, "more than %zu jsonpaths", max);
            goto fail;
        }
        paths[count] = static_cast<char *>(std::malloc(path.size() + 1));
        if (!paths[count])
            std::abort();
        std::memcpy(paths[count], path.data(), path.size());
        paths[count][path.size()] = '\0';
        count++;
    }
    return static_cast<int>(count);
fail:
    for (size_t i = 0; i < count; i++)
        std::free(paths[i]);
    return -1;
}

extern "C" int json_text_is_incomplete(const char *text, size_t len)
{
    size_t end = len;
    while (end > 0 && std::isspace(static_cast<unsigned char>(text[end - 1])))
        end--;
    if (end == 0 || text[end - 1] != '}')
        return 1;
    /* Ends with a brace that may close a nested object only: let the parser say. */
    dom::parser parser;
    dom::element root;
    error_code e = parser.parse(text, len, false).get(root);
    return e == TAPE_ERROR || e == INCOMPLETE_ARRAY_OR_OBJECT || e == UNCLOSED_STRING;
}
