/* parse_floor.cpp - the parsing half of the benchmark's floor: every event file and song file
 * read and parsed by simdjson, and nothing else.
 *
 * Each file is listed (a recursive walk, *.json), read into one reused padded buffer and
 * parsed with On-Demand's iterate_many (JSON Lines, one object, or objects one after another).
 * Every field the ETL uses is read to a value (strings unescaped, numbers converted), and the
 * values are folded into a checksum so the compiler cannot drop the work; other fields are
 * skipped as On-Demand skips them. No hashing, matching or row building: that is the ETL's
 * work above the floor. One thread, as the work is sequential here.
 *
 * usage: parse_floor LOG_DIR SONG_DIR
 * prints {"files": N, "bytes": N, "events": N, "songs": N, "checksum": N, "seconds": S}
 */
#define SIMDJSON_EXCEPTIONS 0
#include <simdjson.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace simdjson;

namespace
{

/* The keys the ETL reads, per kind of file, in the order the files hold them. */
const std::string_view event_keys[] = {"artist", "firstName", "gender", "lastName",  "length",
                                       "level",  "location",  "page",   "sessionId", "song",
                                       "ts",     "userAgent", "userId"};
const std::string_view song_keys[] = {"artist_id",       "artist_latitude", "artist_longitude",
                                      "artist_location", "artist_name",     "song_id",
                                      "title",           "duration",        "year"};

struct totals {
    uint64_t files = 0, bytes = 0, records = 0, checksum = 0;
};

[[noreturn]] void die(const std::string &what)
{
    std::fprintf(stderr, "parse_floor: %s\n", what.c_str());
    std::exit(1);
}

void list_json(const std::string &dir, std::vector<std::string> &out)
{
    DIR *d = opendir(dir.c_str());
    if (!d)
        die(dir + ": " + std::strerror(errno));
    while (struct dirent *entry = readdir(d)) {
        if (entry->d_name[0] == '.')
            continue;
        std::string path = dir + "/" + entry->d_name;
        struct stat st;
        if (fstatat(dirfd(d), entry->d_name, &st, 0) != 0)
            die(path + ": " + std::strerror(errno));
        std::string_view name(entry->d_name);
        if (S_ISDIR(st.st_mode))
            list_json(path, out);
        else if (S_ISREG(st.st_mode) && name.size() > 5 && name.substr(name.size() - 5) == ".json")
            out.push_back(path);
    }
    closedir(d);
}

/* A reused read buffer; grown without zero-filling (a vector's resize would write every byte). */
struct buffer {
    std::unique_ptr<char[]> data{new char[1 << 20]};
    size_t size = 1 << 20;

    void grow()
    {
        std::unique_ptr<char[]> bigger(new char[size * 2]);
        std::memcpy(bigger.get(), data.get(), size);
        data = std::move(bigger);
        size *= 2;
    }
};

/* The file's bytes into buffer, with simdjson's padding after them. */
size_t read_file(const std::string &path, buffer &buffer)
{
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(path + ": " + std::strerror(errno));
    size_t used = 0;
    for (;;) {
        if (buffer.size - used < 65536 + SIMDJSON_PADDING)
            buffer.grow();
        ssize_t got = read(fd, buffer.data.get() + used, buffer.size - used - SIMDJSON_PADDING);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            die(path + ": " + std::strerror(errno));
        if (got == 0)
            break;
        used += static_cast<size_t>(got);
    }
    close(fd);
    std::memset(buffer.data.get() + used, 0, SIMDJSON_PADDING);
    return used;
}

/* One value of a key the ETL reads, converted as its column needs it. */
uint64_t read_value(ondemand::value value, const std::string &where)
{
    ondemand::json_type type;
    if (value.type().get(type))
        die(where + ": malformed JSON");
    std::string_view text;
    double number;
    bool null;
    switch (type) {
    case ondemand::json_type::string:
        if (value.get_string().get(text))
            die(where + ": malformed string");
        return text.size() + static_cast<unsigned char>(text.empty() ? 0 : text[0]);
    case ondemand::json_type::number:
        if (value.get_double().get(number))
            die(where + ": malformed number");
        return static_cast<uint64_t>(static_cast<int64_t>(number));
    case ondemand::json_type::null:
        if (value.is_null().get(null))
            die(where + ": malformed null");
        return 1;
    default:
        return value.raw_json_token().size();
    }
}

template <size_t N>
void parse_file(ondemand::parser &parser, const std::string &path, buffer &buffer,
                const std::string_view (&keys)[N], totals &t)
{
    size_t len = read_file(path, buffer);
    t.files++;
    t.bytes += len;
    ondemand::document_stream stream;
    size_t batch = len < 1024 ? 1024 : len;
    if (parser.iterate_many(buffer.data.get(), len, batch).get(stream))
        die(path + ": cannot parse");
    for (auto it = stream.begin(); it != stream.end(); ++it) {
        ondemand::document_reference doc;
        ondemand::object object;
        if ((*it).get(doc) || doc.get_object().get(object))
            die(path + ": not a JSON object");
        size_t next = 0;
        for (auto field_result : object) {
            ondemand::field field;
            std::string_view key;
            if (std::move(field_result).get(field) || field.unescaped_key().get(key))
                die(path + ": malformed key");
            /* Keys usually come in the listed order: try the one after the last match first. */
            for (size_t i = 0; i < N; i++) {
                size_t k = (next + i) % N;
                if (key == keys[k]) {
                    t.checksum += read_value(field.value(), path);
                    next = k + 1;
                    break;
                }
            }
        }
        t.records++;
    }
    if (stream.truncated_bytes() > 0)
        die(path + ": truncated JSON");
}

double now()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: parse_floor LOG_DIR SONG_DIR\n");
        return 2;
    }
    double started = now();
    ondemand::parser parser;
    buffer buffer;
    totals events, songs;
    std::vector<std::string> files;
    list_json(argv[1], files);
    for (const std::string &path : files)
        parse_file(parser, path, buffer, event_keys, events);
    files.clear();
    list_json(argv[2], files);
    for (const std::string &path : files)
        parse_file(parser, path, buffer, song_keys, songs);
    double seconds = now() - started;
    std::printf("{\"files\": %llu, \"bytes\": %llu, \"events\": %llu, \"songs\": %llu, "
                "\"checksum\": %llu, \"seconds\": %.3f}\n",
                static_cast<unsigned long long>(events.files + songs.files),
                static_cast<unsigned long long>(events.bytes + songs.bytes),
                static_cast<unsigned long long>(events.records),
                static_cast<unsigned long long>(songs.records),
                static_cast<unsigned long long>(events.checksum + songs.checksum), seconds);
    return 0;
}
