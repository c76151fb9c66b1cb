/* rowbuf.h - batches of typed rows on their way to a warehouse (the tables are schema.h's).
 *
 * The model fills row buffers; a warehouse writes them (prepared statements for SQLite).
 * Text is copied into an arena of fixed blocks, so pointers stay valid while the batch
 * grows, and rowbuf_clear keeps the memory for the next batch: after warm-up the hot path
 * does not allocate.
 */
#ifndef SPARKIFY_ROWBUF_H
#define SPARKIFY_ROWBUF_H

#include "record.h"
#include "schema.h"

#include <stddef.h>
#include <stdint.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* newest block first */
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
/* Forgets every allocation but keeps the first block for reuse. */
void arena_reset(struct arena *a);
/* `len` bytes (and a NUL after them) that live until the arena is released or reset. */
char *arena_alloc(struct arena *a, size_t len);
char *arena_copy(struct arena *a, const char *s, size_t len);

struct rowbuf {
    enum table_id table;
    size_t columns;
    size_t rows;
    size_t capacity; /* rows */
    struct cell *cells;
    struct arena text;
};

void rowbuf_init(struct rowbuf *rb, enum table_id table);
/* A buffer for rows of no particular table (query results). */
void rowbuf_init_columns(struct rowbuf *rb, size_t columns);
void rowbuf_release(struct rowbuf *rb);
void rowbuf_clear(struct rowbuf *rb);
/* Appends a row of NULLs and returns its cells. */
struct cell *rowbuf_add_row(struct rowbuf *rb);
void rowbuf_set_text(struct rowbuf *rb, struct cell *c, const char *s, size_t len);
/* Copies a cell, taking a private copy of its text. */
void rowbuf_set_cell(struct rowbuf *rb, struct cell *dst, const struct cell *src);
/* Sorts the rows by their first `key_columns` cells (cell_compare order). Writing rows in key
 * order turns B-tree inserts into appends. */
void rowbuf_sort(struct rowbuf *rb, size_t key_columns);

static inline struct cell *rowbuf_row(const struct rowbuf *rb, size_t row)
{
    return rb->cells + row * rb->columns;
}

#endif
