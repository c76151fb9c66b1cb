/* hashmap.c - open-addressing hash tables (see hashmap.h). Load factor stays below 1/2. */
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define EMPTY_KEY UINT32_MAX

static void strmap_alloc(struct strmap *m, size_t capacity)
{
    m->slots = xmalloc(capacity * sizeof *m->slots);
    for (size_t i = 0; i < capacity; i++)
        m->slots[i].key_len = EMPTY_KEY;
    m->capacity = capacity;
}

void strmap_init(struct strmap *m)
{
    m->count = 0;
    buffer_init(&m->keys);
    strmap_alloc(m, 64);
}

void strmap_release(struct strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->capacity = m->count = 0;
    buffer_release(&m->keys);
}

static size_t strmap_probe(const struct strmap *m, uint64_t hash, const void *key, size_t len)
{
    size_t mask = m->capacity - 1;
    size_t i = (size_t)hash & mask;
    for (;;) {
        const struct strmap_slot *s = &m->slots[i];
        if (s->key_len == EMPTY_KEY)
            return i;
        if (s->hash == hash && s->key_len == len &&
            memcmp(m->keys.data + s->key_offset, key, len) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

static void strmap_grow(struct strmap *m)
{
    struct strmap_slot *old = m->slots;
    size_t old_capacity = m->capacity;
    strmap_alloc(m, old_capacity * 2);
    size_t mask = m->capacity - 1;
    for (size_t i = 0; i < old_capacity; i++) {
        if (old[i].key_len == EMPTY_KEY)
            continue;
        size_t j = (size_t)old[i].hash & mask;
        while (m->slots[j].key_len != EMPTY_KEY)
            j = (j + 1) & mask;
        m->slots[j] = old[i];
    }
    free(old);
}

uint32_t *strmap_upsert(struct strmap *m, const void *key, size_t len, int *inserted)
{
    if ((m->count + 1) * 2 > m->capacity)
        strmap_grow(m);
    uint64_t hash = XXH3_64bits(key, len);
    size_t i = strmap_probe(m, hash, key, len);
    struct strmap_slot *s = &m->slots[i];
    if (s->key_len != EMPTY_KEY) {
        *inserted = 0;
        return &s->value;
    }
    s->hash = hash;
    s->key_offset = m->keys.len;
    s->key_len = (uint32_t)len;
    s->value = 0;
    buffer_append(&m->keys, key, len);
    m->count++;
    *inserted = 1;
    return &s->value;
}

uint32_t *strmap_find(const struct strmap *m, const void *key, size_t len)
{
    uint64_t hash = XXH3_64bits(key, len);
    size_t i = strmap_probe(m, hash, key, len);
    struct strmap_slot *s = &m->slots[i];
    return s->key_len == EMPTY_KEY ? NULL : &s->value;
}

static void i64set_alloc(struct i64set *s, size_t capacity)
{
    s->slots = xmalloc(capacity * sizeof *s->slots);
    for (size_t i = 0; i < capacity; i++)
        s->slots[i] = INT64_MIN;
    s->capacity = capacity;
}

void i64set_init(struct i64set *s)
{
    s->count = 0;
    i64set_alloc(s, 64);
}

void i64set_release(struct i64set *s)
{
    free(s->slots);
    s->slots = NULL;
    s->capacity = s->count = 0;
}

static size_t i64_slot(int64_t v, size_t mask)
{
    return (size_t)XXH3_64bits(&v, sizeof v) & mask;
}

int i64set_add(struct i64set *s, int64_t v)
{
    if ((s->count + 1) * 2 > s->capacity) {
        int64_t *old = s->slots;
        size_t old_capacity = s->capacity;
        i64set_alloc(s, old_capacity * 2);
        for (size_t i = 0; i < old_capacity; i++) {
            if (old[i] == INT64_MIN)
                continue;
            size_t j = i64_slot(old[i], s->capacity - 1);
            while (s->slots[j] != INT64_MIN)
                j = (j + 1) & (s->capacity - 1);
            s->slots[j] = old[i];
        }
        free(old);
    }
    size_t mask = s->capacity - 1;
    size_t i = i64_slot(v, mask);
    while (s->slots[i] != INT64_MIN) {
        if (s->slots[i] == v)
            return 0;
        i = (i + 1) & mask;
    }
    s->slots[i] = v;
    s->count++;
    return 1;
}
