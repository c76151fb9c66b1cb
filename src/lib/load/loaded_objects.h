/* loaded_objects.h - what the warehouse has loaded, known by content, and what a run loads.
 *
 * loaded_objects holds one row per path (or S3 key) at which loaded content was seen: its size,
 * a version that changes whenever the bytes may have (mtime, ETag) and the fingerprint of the
 * bytes loaded (XXH3-128 for files, the ETag for S3 objects). A run plans each listed object:
 * - the same key, size and version as a row: loaded, skipped without reading it;
 * - the same content (fingerprint and size) as any row, or as an object earlier in this run:
 *   loaded already (moved, renamed, copied, linked, touched), skipped, and its path recorded;
 * - a plain local log file whose row has a shorter size, or one whose old path is gone and
 *   whose first bytes are a row's content (moved and grown): only its new lines are loaded;
 * - any other change to a loaded log object is an error (its events are in songplays); a changed
 *   song file is loaded again (the song rules pick the row);
 * - otherwise it is new.
 * Fingerprints are only computed where content could match: when a row or another listed
 * object has the same size. Song files are fingerprinted as they are read (check_content).
 */
#ifndef SPARKIFY_LOADED_OBJECTS_H
#define SPARKIFY_LOADED_OBJECTS_H

#include "hashmap.h"
#include "rowbuf.h"
#include "source.h"
#include "warehouse.h"

struct loaded_entry {
    const char *key, *version, *fingerprint; /* fingerprint NULL: recorded before fingerprints */
    const char *loaded_at;
    uint64_t size;
    uint32_t next_same_name; /* the next entry with the same file name, or UINT32_MAX */
};

struct seen_object {
    const char *kind, *key, *version, *fingerprint, *loaded_at; /* in the record's arena */
    uint64_t size;
};

struct loaded_record {
    struct strmap by_path;    /* "kind\0key" -> entry */
    struct strmap by_content; /* "kind\0size\0fingerprint" -> entry, or UINT32_MAX: this run */
    struct strmap sizes;      /* "kind\0size" of every entry */
    struct strmap by_name;    /* "kind\0file name" -> first entry */
    struct loaded_entry *entries;
    size_t count, capacity;
    struct arena strings;
    struct buffer key;
    /* Objects found loaded already, at a path without a row for that content: rows to write. */
    struct seen_object *seen;
    size_t seen_count, seen_capacity;
    const char *run_at; /* loaded_at of content first loaded by this run */
};

/* `run_at` ("YYYY-MM-DD HH:MM:SS", UTC) must outlive the record. */
void loaded_record_init(struct loaded_record *r, const char *run_at);
void loaded_record_release(struct loaded_record *r);
/* Reads the rows of loaded_objects of the kinds a run lists objects of (every plan compares an
 * object with rows of its own kind only): a run of log files reads no song file's row. */
int loaded_record_read(struct warehouse *wh, struct loaded_record *r, bool songs, bool logs,
                       struct sp_error *err);

/* Plans `list` (objects of one kind, "song" or "log"): removes the objects loaded already,
 * counting them in `skipped`, and sets start/prefix_fingerprint/check_content on the rest.
 * With `defer_songs`, song files whose content must be compared are marked check_content and
 * compared by loaded_record_check_content once read, rather than read here. */
int loaded_record_plan(struct loaded_record *r, const char *kind, struct source_list *list,
                       bool defer_songs, size_t *skipped, struct sp_error *err);

/* For an object marked check_content, once o->fingerprint and o->loaded are known: returns 1
 * when the same content is loaded already or earlier in this run (the object is then skipped and
 * its path recorded), 0 when it is to be loaded. */
int loaded_record_check_content(struct loaded_record *r, const char *kind,
                                const struct source_object *o);

/* Appends loaded_objects rows for the objects of `list` as loaded (o->loaded bytes,
 * o->fingerprint) at `loaded_at`; `run_at` is the run's time, for objects seen for the first
 * time as copies of each other within it. */
void loaded_record_rows(struct rowbuf *rows, const char *kind, const struct source_list *list,
                        const char *loaded_at);
/* Appends the rows of the objects found loaded at paths of their own. */
void loaded_record_seen_rows(struct loaded_record *r, struct rowbuf *rows);

#endif
