/* hashmap.h - the two hash tables the model needs: byte-string keys to uint32 values, and a
 * set of int64. Open addressing with linear probing; hashes from xxHash (XXH3).
 *
 * A strmap copies its keys into one pooled buffer, so inserting allocates only when the pool
 * or the slot array grows (amortised, never per row). Values are indexes into arrays the
 * caller owns; that keeps the table small and the caller's rows contiguous.
 */
#ifndef SPARKIFY_HASHMAP_H
#define SPARKIFY_HASHMAP_H

#include "buffer.h"

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
    uint64_t hash;
    size_t key_offset;
    uint32_t key_len;
    uint32_t value;
};

struct strmap {
    struct strmap_slot *slots; /* key_len == UINT32_MAX marks an empty slot */
    size_t capacity;           /* power of two */
    size_t count;
    struct buffer keys;
};

void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);
/* Returns the value slot for `key`, adding the key with value 0 when absent (*inserted = 1). */
uint32_t *strmap_upsert(struct strmap *m, const void *key, size_t len, int *inserted);
/* Returns the value slot for `key`, or NULL. */
uint32_t *strmap_find(const struct strmap *m, const void *key, size_t len);

struct i64set {
    int64_t *slots; /* INT64_MIN marks an empty slot */
    size_t capacity;
    size_t count;
};

void i64set_init(struct i64set *s);
void i64set_release(struct i64set *s);
/* Adds `v` (which must not be INT64_MIN); returns 1 when it was not present before. */
int i64set_add(struct i64set *s, int64_t v);

#endif
