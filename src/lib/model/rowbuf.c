/* rowbuf.c - row batches and their text arena (see rowbuf.h). */
#include "rowbuf.h"

#include "buffer.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE (64 * 1024)

struct arena_block {
    struct arena_block *next;
    size_t used;
    size_t size;
    char data[];
};

void arena_init(struct arena *a)
{
    a->head = NULL;
}

void arena_release(struct arena *a)
{
    while (a->head) {
        struct arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

void arena_reset(struct arena *a)
{
    if (!a->head)
        return;
    /* Keep the oldest standard-size block; free the rest. */
    struct arena_block *keep = NULL;
    while (a->head) {
        struct arena_block *next = a->head->next;
        if (!keep && a->head->size == ARENA_BLOCK_SIZE)
            keep = a->head;
        else
            free(a->head);
        a->head = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
}

char *arena_alloc(struct arena *a, size_t len)
{
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < len + 1) {
        size_t size = len + 1 > ARENA_BLOCK_SIZE / 4 ? len + 1 : ARENA_BLOCK_SIZE;
        struct arena_block *nb = xmalloc(sizeof *nb + size);
        nb->used = 0;
        nb->size = size;
        if (size == ARENA_BLOCK_SIZE || !b) {
            nb->next = b;
            a->head = nb;
        } else {
            /* An oversized string gets its own block behind the current one, which stays
             * open for the small strings that follow. */
            nb->next = b->next;
            b->next = nb;
        }
        b = nb;
    }
    char *p = b->data + b->used;
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

char *arena_copy(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len);
    if (len)
        memcpy(p, s, len);
    return p;
}

void rowbuf_init(struct rowbuf *rb, enum table_id table)
{
    rb->table = table;
    rb->columns = table_defs[table].column_count;
    rb->rows = 0;
    rb->capacity = 0;
    rb->cells = NULL;
    arena_init(&rb->text);
}

void rowbuf_init_columns(struct rowbuf *rb, size_t columns)
{
    rowbuf_init(rb, TABLE_COUNT - 1);
    rb->table = TABLE_COUNT;
    rb->columns = columns;
}

void rowbuf_release(struct rowbuf *rb)
{
    free(rb->cells);
    rb->cells = NULL;
    rb->rows = rb->capacity = 0;
    arena_release(&rb->text);
}

void rowbuf_clear(struct rowbuf *rb)
{
    rb->rows = 0;
    arena_reset(&rb->text);
}

struct cell *rowbuf_add_row(struct rowbuf *rb)
{
    if (rb->rows == rb->capacity) {
        rb->capacity = rb->capacity ? rb->capacity * 2 : 256;
        rb->cells = xrealloc(rb->cells, rb->capacity * rb->columns * sizeof *rb->cells);
    }
    struct cell *row = rowbuf_row(rb, rb->rows++);
    memset(row, 0, rb->columns * sizeof *row);
    return row;
}

void rowbuf_set_text(struct rowbuf *rb, struct cell *c, const char *s, size_t len)
{
    c->type = CELL_TEXT;
    c->text.ptr = arena_copy(&rb->text, s, len);
    c->text.len = len;
}

void rowbuf_set_cell(struct rowbuf *rb, struct cell *dst, const struct cell *src)
{
    if (src->type == CELL_TEXT)
        rowbuf_set_text(rb, dst, src->text.ptr, src->text.len);
    else
        *dst = *src;
}

/* qsort has no context argument in C17; the key width travels in a thread-local. */
static _Thread_local size_t sort_key_columns;

static int compare_rows(const void *a, const void *b)
{
    const struct cell *x = a, *y = b;
    for (size_t i = 0; i < sort_key_columns; i++) {
        int c = cell_compare(&x[i], &y[i]);
        if (c)
            return c;
    }
    return 0;
}

void rowbuf_sort(struct rowbuf *rb, size_t key_columns)
{
    if (rb->rows < 2)
        return;
    sort_key_columns = key_columns;
    qsort(rb->cells, rb->rows, rb->columns * sizeof *rb->cells, compare_rows);
}
