/* The hot loops of ``sod actual`` (issue #15): the common form of a large CSV input, parsed
   in one pass, and the signatures that find the few events that may matter.

   Arrow's CSV reader is general: quoting, any encoding of a time, nulls. Most of its cost
   on a 10 M-line event log is that generality. This module reads only the common form,
   and says so when a range is not in it, so the caller reads the file with Arrow instead,
   which also reports every error with its line. The common form:

   - lines end in \n; no line is empty; no byte is a quote or \r; the fields read are
     UTF-8 (those skipped are not looked at, as Arrow does not);
   - every line has the header's number of fields;
   - a key field ('k') is a value of its key table (an empty or unknown one is not the
     common form), an optional key ('o') may be unknown (-1), a time ('t') is
     YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM|-HH:MM) and a valid date, a string ('s') is
     copied as it is, and any other field ('-') is skipped.

   It decides nothing: the caller's tests compare it with Arrow on generated input.
   Everything is parsed without the interpreter's lock, so threads read pieces side by side. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* -- key tables ------------------------------------------------------------------------ */

/* How many keys ahead a key's slot is fetched while an earlier one is compared. */
#define AHEAD 32

typedef struct {
    uint64_t head;  /* the key's first 8 bytes, zero-padded */
    int32_t index;  /* its position in the ids; -1: an empty slot */
    uint32_t length;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    uint64_t mask;
    char *data;       /* the keys' bytes, copied */
    int64_t *offsets; /* key i is data[offsets[i]:offsets[i+1]] */
    char *end;        /* of the data, 8 bytes of padding after the last key */
    Py_ssize_t count;
} KeyTable;

/* A word's first n bytes (all eight for n >= 8), as a mask. */
static inline uint64_t low_bytes(size_t n) {
    return n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
}

/* The first n < 8 bytes at p as a word, zero-padded; read as one word when the buffer,
   which ends at ``end``, has room (no call to memcpy for a few bytes). */
static inline uint64_t load_tail(const char *p, size_t n, const char *end) {
    uint64_t w = 0;
    if (end - p >= 8) {
        memcpy(&w, p, 8);
        return w & low_bytes(n);
    }
    memcpy(&w, p, n);
    return w;
}

static inline uint64_t word_at(const char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* The key's first 8 bytes, zero-padded. */
static inline uint64_t load_head(const char *p, size_t n, const char *end) {
    return n < 8 ? load_tail(p, n, end) : word_at(p);
}

/* Whether two keys of n bytes are equal; for n < 8 their buffers end at a_end, b_end.
   Past the first word, the last word is compared first: a key of up to 16 bytes is then
   done, without a loop whose length differs from key to key (a branch mispredicted). */
static inline int same_bytes(const char *a, const char *b, size_t n, const char *a_end,
                             const char *b_end) {
    if (n < 8) return load_tail(a, n, a_end) == load_tail(b, n, b_end);
    if (word_at(a) != word_at(b) || word_at(a + n - 8) != word_at(b + n - 8)) return 0;
    for (size_t i = 8; i + 8 < n; i += 8)
        if (word_at(a + i) != word_at(b + i)) return 0;
    return 1;
}

/* A hash of every byte (ids such as e-mail addresses share their first and last words). */
static inline uint64_t hash_key(const char *p, size_t n, const char *end) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xC2B2AE3D27D4EB4FULL);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        h = (h ^ word_at(p + i)) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    if (i < n) h = (h ^ load_tail(p + i, n - i, end)) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 29;
    return h;
}

/* The position of a key (in a buffer ending at ``end``) whose hash is ``hash``, or -1. */
static inline int32_t table_find_hashed(const KeyTable *t, const char *p, size_t n,
                                        const char *end, uint64_t hash) {
    uint64_t head = load_head(p, n, end);
    uint64_t at = hash & t->mask;
    for (;;) {
        const Slot *s = &t->slots[at];
        if (s->index < 0) return -1;
        if (s->head == head && s->length == n &&
            (n <= 8 || same_bytes(t->data + t->offsets[s->index], p, n, t->end, end)))
            return s->index;
        at = (at + 1) & t->mask;
    }
}

/* A bytearray of ``bytes`` (not initialised) appended to ``outputs``; its buffer, or NULL. */
static char *new_output(PyObject *outputs, Py_ssize_t bytes) {
    PyObject *out = PyByteArray_FromStringAndSize(NULL, bytes);
    if (!out) return NULL;
    if (PyList_Append(outputs, out) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    Py_DECREF(out);
    return PyByteArray_AS_STRING(out);
}

static void KeyTable_dealloc(KeyTable *self) {
    free(self->slots);
    PyMem_RawFree(self->data);
    PyMem_RawFree(self->offsets);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* KeyTable(offsets, data): the ids of an Arrow string array (its int32 offsets, already
   sliced to the array, and its data buffer); a repeated id keeps its first position. */
static int KeyTable_init(KeyTable *self, PyObject *args, PyObject *kwds) {
    Py_buffer offsets, data;
    if (!PyArg_ParseTuple(args, "y*y*", &offsets, &data)) return -1;
    int rc = -1;
    Py_ssize_t n = offsets.len / 4 - 1;
    const int32_t *off = (const int32_t *)offsets.buf;
    if (n < 0 || offsets.len % 4) {
        PyErr_SetString(PyExc_ValueError, "offsets: n + 1 int32 values");
        goto done;
    }
    int64_t base = off[0];
    if (base < 0 || base > data.len) {
        PyErr_SetString(PyExc_ValueError, "offsets outside the data");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (off[i + 1] < off[i] || off[i + 1] > data.len) {
            PyErr_SetString(PyExc_ValueError, "offsets outside the data");
            goto done;
        }
    }
    uint64_t size = 16;
    while (size < (uint64_t)n * 2) size <<= 1;
    if (self->slots) {
        PyErr_SetString(PyExc_TypeError, "a KeyTable is built once");
        goto done;
    }
    self->slots = malloc(size * sizeof(Slot));
    self->offsets = PyMem_RawMalloc((n + 1) * sizeof(int64_t));
    self->data = PyMem_RawMalloc((size_t)(off[n] - base) + 8);
    if (!self->slots || !self->offsets || !self->data) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS /* a million ids take 0.04 s: the other threads go on */
    memcpy(self->data, (const char *)data.buf + base, (size_t)(off[n] - base));
    memset(self->data + (off[n] - base), 0, 8);
    self->end = self->data + (off[n] - base) + 8;
    for (uint64_t i = 0; i < size; i++) self->slots[i].index = -1;
    self->mask = size - 1;
    self->count = n;
    for (Py_ssize_t i = 0; i <= n; i++) self->offsets[i] = off[i] - base;
    /* each key is found or put in one walk of its slots, fetched AHEAD keys before */
    uint64_t ahead[AHEAD];
    for (Py_ssize_t i = 0; i < n && i < AHEAD; i++) {
        ahead[i] = hash_key(self->data + self->offsets[i],
                            (size_t)(self->offsets[i + 1] - self->offsets[i]), self->end);
        __builtin_prefetch(&self->slots[ahead[i] & self->mask], 1);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t at = ahead[i % AHEAD] & self->mask;
        if (i + AHEAD < n) {
            Py_ssize_t j = i + AHEAD;
            uint64_t next = hash_key(self->data + self->offsets[j],
                                     (size_t)(self->offsets[j + 1] - self->offsets[j]), self->end);
            ahead[i % AHEAD] = next;
            __builtin_prefetch(&self->slots[next & self->mask], 1);
        }
        const char *p = self->data + self->offsets[i];
        size_t len = (size_t)(self->offsets[i + 1] - self->offsets[i]);
        uint64_t head = load_head(p, len, self->end);
        for (;; at = (at + 1) & self->mask) {
            Slot *s = &self->slots[at];
            if (s->index < 0) {
                s->head = head;
                s->index = (int32_t)i;
                s->length = (uint32_t)len;
                break;
            }
            if (s->head == head && s->length == len &&
                (len <= 8 || same_bytes(self->data + self->offsets[s->index], p, len, self->end,
                                        self->end)))
                break; /* a repeated id keeps its first place */
        }
    }
    Py_END_ALLOW_THREADS
    rc = 0;
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    return rc;
}

static PyTypeObject KeyTableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "backoffice.core.accessrisk._native.KeyTable",
    .tp_doc = PyDoc_STR("Distinct ids, found by hashing (the common form's keys)."),
    .tp_basicsize = sizeof(KeyTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)KeyTable_init,
    .tp_dealloc = (destructor)KeyTable_dealloc,
};

/* -- times ----------------------------------------------------------------------------- */

static inline int digits(const char *p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (d > 9) return 0;
        v = v * 10 + (int)d;
    }
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static inline int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static inline int days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return 29;
    return days[m - 1];
}

/* The last date parsed in a column: a log in time order repeats it line after line. */
typedef struct {
    char date[10];
    int64_t days;
} LastDate;

/* Microseconds since 1970 UTC of the common form of an ISO 8601 time; 0 if not in it. */
static int parse_time(const char *p, size_t n, int64_t *out, LastDate *last) {
    int y, mo, d, h, mi, s;
    if (n < 20 || p[10] != 'T' || p[13] != ':' || p[16] != ':') return 0;
    if (memcmp(p, last->date, 10) != 0) {
        if (p[4] != '-' || p[7] != '-' || !digits(p, 4, &y) || !digits(p + 5, 2, &mo) ||
            !digits(p + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
            return 0;
        memcpy(last->date, p, 10);
        last->days = days_from_civil(y, mo, d);
    }
    if (!digits(p + 11, 2, &h) || !digits(p + 14, 2, &mi) || !digits(p + 17, 2, &s) || h > 23 ||
        mi > 59 || s > 59)
        return 0;
    size_t i = 19;
    int64_t micros = 0;
    if (p[i] == '.') {
        size_t start = ++i;
        while (i < n && i - start < 7 && (unsigned)(p[i] - '0') <= 9) {
            micros = micros * 10 + (p[i] - '0');
            i++;
        }
        size_t count = i - start;
        if (count == 0 || count > 6) return 0;
        for (; count < 6; count++) micros *= 10;
    }
    int64_t zone = 0;
    if (i + 1 == n && p[i] == 'Z') {
        zone = 0;
    } else if (i + 6 == n && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
        int zh, zm;
        if (!digits(p + i + 1, 2, &zh) || !digits(p + i + 4, 2, &zm) || zh > 23 || zm > 59)
            return 0;
        zone = (p[i] == '+' ? 1 : -1) * (int64_t)(zh * 3600 + zm * 60);
    } else {
        return 0;
    }
    int64_t seconds = last->days * 86400 + h * 3600 + mi * 60 + s - zone;
    *out = seconds * 1000000 + micros;
    return 1;
}

/* -- rows ------------------------------------------------------------------------------ */

#define MAX_FIELDS 64
/* Bytes parsed before their keys are found (in the second level cache with their places). */
#define BLOCK (512 << 10)

/* A key to find: the first line of a run of lines with the same key, its hash and place. */
typedef struct {
    uint64_t hash;
    uint32_t row, start, length;
} Lookup;

typedef struct {
    char kind;
    KeyTable *table;
    char *out;        /* int32 keys, int64 times, or a string's int32 offsets */
    char *text;       /* a string's bytes */
    Py_ssize_t used;  /* bytes of text written */
    Py_ssize_t out_size, text_size;     /* their bytes */
    Py_ssize_t out_mapped, text_mapped; /* bytes of out and text whose pages are mapped */
    Lookup *lookups;  /* a block's keys to find: each differs from the key on the line before */
    Py_ssize_t found; /* lookups in the block */
    uint32_t last_start, last_length; /* the key on the line before (its place in the block) */
    LastDate last;    /* a time's */
    /* an optional key's values: key k has values[ptr[k]:ptr[k + 1]], an unknown key those
       of k = the table's count; the first is the column's (-1: none), the others are listed
       apart as (row, value), the further functions of an action of several */
    Py_buffer ptr, values;
    int has_values;
    int32_t *more;    /* (row, value) pairs */
    Py_ssize_t more_used, more_size; /* pairs */
} Field;

/* The separators (',' and \n) of 64 bytes as bits, and in ``odd`` the bytes that are not
   in the common form ('"', \r). SSE2 on x86-64 (every such processor has it),
   a byte at a time elsewhere. */
static inline uint64_t chunk_mask(const unsigned char *p, uint64_t *odd) {
#if defined(__SSE2__)
    const __m128i comma = _mm_set1_epi8(','), line = _mm_set1_epi8('\n');
    const __m128i quote = _mm_set1_epi8('"'), cr = _mm_set1_epi8('\r');
    uint64_t seps = 0, bad = 0;
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * i));
        __m128i sep = _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, line));
        __m128i other = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, cr));
        seps |= (uint64_t)(uint32_t)_mm_movemask_epi8(sep) << (16 * i);
        bad |= (uint64_t)(uint32_t)_mm_movemask_epi8(other) << (16 * i);
    }
    *odd = bad;
    return seps;
#else
    uint64_t seps = 0, bad = 0;
    for (int i = 0; i < 64; i++) {
        seps |= (uint64_t)(p[i] == ',' || p[i] == '\n') << i;
        bad |= (uint64_t)(p[i] == '"' || p[i] == '\r') << i;
    }
    *odd = bad;
    return seps;
#endif
}

/* The separators of the data, in order, 64 bytes at a time. */
typedef struct {
    const char *data;
    Py_ssize_t size;
    Py_ssize_t base; /* of the 64 bytes in ``mask`` */
    uint64_t mask;   /* their separators not yet taken */
} Separators;

/* The next separator's place; ``size`` if there is none, -1 at a byte not in the common form. */
static inline Py_ssize_t next_separator(Separators *s) {
    while (!s->mask) {
        s->base += 64;
        if (s->base >= s->size) return s->size;
        uint64_t odd;
        if (s->size - s->base >= 64) {
            s->mask = chunk_mask((const unsigned char *)s->data + s->base, &odd);
        } else {
            unsigned char tail[64] = {0};
            memcpy(tail, s->data + s->base, (size_t)(s->size - s->base));
            s->mask = chunk_mask(tail, &odd);
        }
        if (odd) return -1;
    }
    Py_ssize_t at = s->base + __builtin_ctzll(s->mask);
    s->mask &= s->mask - 1;
    return at;
}

/* Whether n bytes are UTF-8 as Arrow checks it (no overlong forms, no surrogates, nothing
   past U+10FFFF); ASCII, which most are, a word at a time. */
static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n && !(word_at((const char *)s + i) & 0x8080808080808080ULL)) {
            i += 8;
            continue;
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t point;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2, point = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, point = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, point = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            point = (point << 6) | (s[i + k] & 0x3F);
        }
        if (len == 3 && (point < 0x800 || (point >= 0xD800 && point <= 0xDFFF))) return 0;
        if (len == 4 && (point < 0x10000 || point > 0x10FFFF)) return 0;
        i += len;
    }
    return 1;
}

/* Parse the lines of one block, data[0:size], into rows ``row0``…; the number of rows, -1
   if it is not the common form, -2 if memory ran out. ``end``: the end of all the data
   (read past the block to load whole words). Keys are only hashed here, and found
   afterwards in a loop of their own, which keeps many table lookups in flight instead of
   one per line. */
static Py_ssize_t parse_block(const char *data, Py_ssize_t size, const char *end, Field *fields,
                              int count, Py_ssize_t row0) {
    Py_ssize_t row = 0, at = 0;
    Separators separators = {data, size, -64, 0};
    while (at < size) {
        for (int f = 0; f < count; f++) {
            Py_ssize_t start = at;
            at = next_separator(&separators);
            if (at < 0) return -1;
            char stop = at < size ? data[at] : '\n';
            if (stop != (f + 1 < count ? ',' : '\n')) return -1; /* a short or a long line */
            size_t n = (size_t)(at - start);
            if (n == 0 && count == 1) return -1; /* a blank line */
            Field *field = &fields[f];
            const char *p = data + start;
            switch (field->kind) {
            case 'k':
                if (n == 0) return -1; /* a missing key (also keeps the rows in bound) */
                /* fall through */
            case 'o':
                /* a line with the key of the line before (a file grouped by user) takes its
                   value; others are hashed while in the first level cache, found later */
                if (!row || n != field->last_length ||
                    !same_bytes(p, data + field->last_start, n, end, end)) {
                    Lookup *l = &field->lookups[field->found++];
                    l->hash = hash_key(p, n, end);
                    l->row = (uint32_t)row;
                    l->start = (uint32_t)start;
                    l->length = (uint32_t)n;
                }
                field->last_start = (uint32_t)start;
                field->last_length = (uint32_t)n;
                break;
            case 't':
                if (!parse_time(p, n, &((int64_t *)field->out)[row0 + row], &field->last))
                    return -1;
                break;
            case 's':
                if (n <= 16 && end - p >= 16) { /* a short string: two words */
                    uint64_t head = word_at(p), tail = word_at(p + 8);
                    /* ASCII (its bytes below 0x80, those past it masked) is UTF-8 */
                    uint64_t high = (head & low_bytes(n)) | (tail & low_bytes(n > 8 ? n - 8 : 0));
                    if (high & 0x8080808080808080ULL && !valid_utf8((const unsigned char *)p, n))
                        return -1;
                    memcpy(field->text + field->used, &head, 8);
                    memcpy(field->text + field->used + 8, &tail, 8);
                } else {
                    if (!valid_utf8((const unsigned char *)p, n)) return -1;
                    memcpy(field->text + field->used, p, n);
                }
                field->used += (Py_ssize_t)n;
                ((int32_t *)field->out)[row0 + row + 1] = (int32_t)field->used;
                break;
            default:
                break;
            }
            at++; /* past the comma or the line break */
        }
        row++;
    }
    for (int f = 0; f < count; f++) {
        Field *field = &fields[f];
        if (field->kind != 'k' && field->kind != 'o') continue;
        const KeyTable *t = field->table;
        const Lookup *l = field->lookups;
        Py_ssize_t found = field->found;
        int32_t *out = (int32_t *)field->out + row0;
        field->found = 0;
        for (Py_ssize_t i = 0; i < found && i < AHEAD; i++)
            __builtin_prefetch(&t->slots[l[i].hash & t->mask]);
        for (Py_ssize_t i = 0; i < found; i++) {
            if (i + AHEAD < found) __builtin_prefetch(&t->slots[l[i + AHEAD].hash & t->mask]);
            const char *p = data + l[i].start;
            int32_t at = table_find_hashed(t, p, l[i].length, end, l[i].hash);
            if (at < 0 && (field->kind == 'k' || !valid_utf8((const unsigned char *)p, l[i].length)))
                return -1; /* unknown, or (optional) no text: Arrow says which */
            Py_ssize_t stop = i + 1 < found ? (Py_ssize_t)l[i + 1].row : row;
            if (!field->has_values) {
                for (Py_ssize_t r = l[i].row; r < stop; r++) out[r] = at;
                continue;
            }
            const int64_t *ptr = (const int64_t *)field->ptr.buf + (at < 0 ? t->count : at);
            const int32_t *values = field->values.buf;
            int32_t value = ptr[0] < ptr[1] ? values[ptr[0]] : -1;
            for (Py_ssize_t r = l[i].row; r < stop; r++) out[r] = value;
            Py_ssize_t more = (Py_ssize_t)(ptr[1] - ptr[0]) - 1;
            if (more <= 0) continue;
            if (field->more_used + more * (stop - l[i].row) > field->more_size) {
                Py_ssize_t size = 2 * field->more_size + more * (stop - l[i].row) + 1024;
                int32_t *grown = PyMem_RawRealloc(field->more, (size_t)size * 2 * sizeof(int32_t));
                if (!grown) return -2;
                field->more = grown;
                field->more_size = size;
            }
            for (Py_ssize_t r = l[i].row; r < stop; r++) {
                for (int64_t j = ptr[0] + 1; j < ptr[1]; j++) {
                    field->more[2 * field->more_used] = (int32_t)(row0 + r);
                    field->more[2 * field->more_used++ + 1] = values[j];
                }
            }
        }
    }
    return row;
}

/* Maps the pages of buf[0:want) (of ``size`` bytes) not mapped yet (buf[0:*done) is) in
   one call: a first write to each fresh page would fault once per page (3-6% of the time
   of reading). Only what the next block may write, as the buffers are upper bounds. */
static void populate(char *buf, Py_ssize_t size, Py_ssize_t *done, Py_ssize_t want) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    if (want > size) want = size;
    if (want <= *done) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)buf + (uintptr_t)*done + page - 1) & ~(page - 1);
    uintptr_t to = ((uintptr_t)buf + (uintptr_t)want) & ~(page - 1);
    if (to > from) madvise((void *)from, to - from, MADV_POPULATE_WRITE);
    *done = want;
#else
    (void)buf, (void)size, (void)done, (void)want;
#endif
}

/* All lines of data[0:size], a block of about ``block`` bytes at a time (the block's bytes
   and its keys' places stay in cache while its keys are found); rows, -1 or -2 as
   parse_block. */
static Py_ssize_t parse_rows(const char *data, Py_ssize_t size, Field *fields, int count,
                             Py_ssize_t shortest, Py_ssize_t block) {
    Py_ssize_t rows = 0, at = 0, capacity = 0;
    int failed = 0;
    while (at < size && !failed) {
        Py_ssize_t stop = size;
        if (size - at > block) {
            stop = at + block;
            while (stop > at && data[stop - 1] != '\n') stop--;
            if (stop == at) { /* a line longer than a block */
                const char *next = memchr(data + at + block, '\n', (size_t)(size - at - block));
                stop = next ? next - data + 1 : size;
            }
        }
        Py_ssize_t bound = (stop - at) / shortest + 1;
        if (bound > capacity) {
            capacity = bound;
            for (int f = 0; f < count && !failed; f++) {
                if (fields[f].kind != 'k' && fields[f].kind != 'o') continue;
                Lookup *lookups = PyMem_RawRealloc(fields[f].lookups, capacity * sizeof(Lookup));
                if (lookups) fields[f].lookups = lookups;
                failed = !lookups;
            }
            if (failed) return -2;
        }
        for (int f = 0; f < count; f++) {
            Field *field = &fields[f];
            if (!field->out) continue;
            Py_ssize_t width = field->kind == 't' ? 8 : 4;
            populate(field->out, field->out_size, &field->out_mapped, (rows + bound + 1) * width);
            if (field->text)
                populate(field->text, field->text_size, &field->text_mapped,
                         field->used + (stop - at) + 16);
        }
        Py_ssize_t n = parse_block(data + at, stop - at, data + size, fields, count, rows);
        if (n < 0) return n;
        rows += n;
        at = stop;
    }
    return rows;
}

/* read(data, kinds, tables, block=BLOCK) -> list of bytearrays, or None

   ``data`` holds whole lines (the last one may lack its \n), ``kinds`` one letter per
   field of the header, ``tables`` a KeyTable per 'k' or 'o' field, in order, or for an
   'o' field (KeyTable, ptr, values): key k's values are values[ptr[k]:ptr[k + 1]] (int64
   ptr, int32 values), a key not in the table's those of k = its count; the column gets
   each row's first value (-1: none) instead of its position. The result has per field
   that is not '-', in order: int32 keys ('k', 'o'), int64 microseconds ('t'), or a
   string's int32 offsets and its bytes ('s'): Arrow's layout; after an 'o' field with
   values, the rows' further values as int32 (row, value) pairs. None: the data is not in
   the common form. */
static PyObject *native_read(PyObject *module, PyObject *args) {
    Py_buffer data;
    const char *kinds;
    Py_ssize_t count;
    PyObject *tables;
    Py_ssize_t block = BLOCK;
    if (!PyArg_ParseTuple(args, "y*s#O!|n", &data, &kinds, &count, &PyTuple_Type, &tables,
                          &block))
        return NULL;
    PyObject *result = NULL, *outputs = PyList_New(0);
    Field fields[MAX_FIELDS];
    memset(fields, 0, sizeof(fields));
    if (!outputs) goto done;
    if (block < 1) {
        PyErr_SetString(PyExc_ValueError, "block: at least a byte");
        goto done;
    }
    if (count < 1 || count > MAX_FIELDS) {
        PyErr_SetString(PyExc_ValueError, "kinds: 1 to 64 fields");
        goto done;
    }
    if (data.len > INT32_MAX) { /* a string's offsets are 32 bits, as Arrow's */
        PyErr_SetString(PyExc_ValueError, "data: at most 2 GiB at a time");
        goto done;
    }
    /* at most this many rows: each line has its separators, a key at least a byte and a
       time 20; the buffers are cut to the rows there are, and what is never written is
       never touched, so the bound costs no memory */
    Py_ssize_t shortest = count;
    for (Py_ssize_t f = 0; f < count; f++) shortest += kinds[f] == 'k' ? 1 : kinds[f] == 't' ? 20 : 0;
    Py_ssize_t rows = data.len / shortest + 1;
    const char *bytes = (const char *)data.buf;
    Py_ssize_t next_table = 0;
    for (Py_ssize_t f = 0; f < count; f++) {
        Field *field = &fields[f];
        field->kind = kinds[f];
        Py_ssize_t width = 0;
        switch (kinds[f]) {
        case 'k':
        case 'o': {
            PyObject *t = next_table < PyTuple_GET_SIZE(tables)
                              ? PyTuple_GET_ITEM(tables, next_table++) : NULL;
            PyObject *ptr = NULL, *values = NULL;
            if (t && kinds[f] == 'o' && PyTuple_Check(t) && PyTuple_GET_SIZE(t) == 3) {
                ptr = PyTuple_GET_ITEM(t, 1);
                values = PyTuple_GET_ITEM(t, 2);
                t = PyTuple_GET_ITEM(t, 0);
            }
            if (!t || !PyObject_TypeCheck(t, &KeyTableType) || !((KeyTable *)t)->slots) {
                PyErr_SetString(PyExc_TypeError, "a built KeyTable per key field");
                goto done;
            }
            field->table = (KeyTable *)t;
            if (values) {
                if (PyObject_GetBuffer(ptr, &field->ptr, PyBUF_SIMPLE) < 0) goto done;
                if (PyObject_GetBuffer(values, &field->values, PyBUF_SIMPLE) < 0) {
                    PyBuffer_Release(&field->ptr);
                    goto done;
                }
                field->has_values = 1;
                /* checked here, so that the loops never read outside them */
                const int64_t *p = field->ptr.buf;
                Py_ssize_t n = field->table->count + 1;
                int ok = field->ptr.len == (n + 1) * 8 && p[0] >= 0;
                for (Py_ssize_t k = 0; ok && k < n; k++)
                    ok = p[k] <= p[k + 1] && p[k + 1] <= field->values.len / 4;
                if (!ok) {
                    PyErr_SetString(PyExc_ValueError,
                                    "values: int64 ptr per key, one for unknown and the end, "
                                    "into int32 values");
                    goto done;
                }
            }
            width = 4;
            break;
        }
        case 't': width = 8; break;
        case 's': width = 4; break;
        case '-': continue;
        default:
            PyErr_Format(PyExc_ValueError, "unknown kind %c", kinds[f]);
            goto done;
        }
        field->out_size = (rows + (kinds[f] == 's')) * width;
        field->out = new_output(outputs, field->out_size);
        if (!field->out) goto done;
        if (kinds[f] == 's') {
            ((int32_t *)field->out)[0] = 0;
            field->text_size = data.len + 16;
            field->text = new_output(outputs, field->text_size);
            if (!field->text) goto done;
        }
    }
    Py_ssize_t parsed;
    Py_BEGIN_ALLOW_THREADS
    parsed = parse_rows(bytes, data.len, fields, (int)count, shortest, block);
    Py_END_ALLOW_THREADS
    if (parsed == -2) {
        PyErr_NoMemory();
        goto done;
    }
    if (parsed < 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t f = 0; f < count; f++) {  /* only what was written */
        if (kinds[f] == '-') continue;
        Py_ssize_t width = kinds[f] == 't' ? 8 : 4;
        if (PyByteArray_Resize(PyList_GET_ITEM(outputs, k++), (parsed + (kinds[f] == 's')) * width) < 0)
            goto done;
        if (kinds[f] == 's' && PyByteArray_Resize(PyList_GET_ITEM(outputs, k++), fields[f].used) < 0)
            goto done;
        if (fields[f].has_values) { /* the further values, as (row, value) int32 pairs */
            PyObject *more = PyByteArray_FromStringAndSize(
                (const char *)fields[f].more, fields[f].more_used * 2 * (Py_ssize_t)sizeof(int32_t));
            if (!more || PyList_Insert(outputs, k++, more) < 0) {
                Py_XDECREF(more);
                goto done;
            }
            Py_DECREF(more);
        }
    }
    result = Py_NewRef(outputs);
done:
    for (int f = 0; f < MAX_FIELDS; f++) {
        PyMem_RawFree(fields[f].lookups);
        PyMem_RawFree(fields[f].more);
        if (fields[f].has_values) {
            PyBuffer_Release(&fields[f].ptr);
            PyBuffer_Release(&fields[f].values);
        }
    }
    Py_XDECREF(outputs);
    PyBuffer_Release(&data);
    return result;
}

/* -- signatures (actual conflicts) ------------------------------------------------------ */

/* Buffers of ``rows`` int32 values each, checked to lie in [low, high). */
static int check_range(const int32_t *values, Py_ssize_t rows, int32_t low, int64_t high,
                       const char *name) {
    for (Py_ssize_t i = 0; i < rows; i++) {
        if (values[i] < low || values[i] >= high) {
            PyErr_Format(PyExc_ValueError, "%s %d at row %zd is out of range", name,
                         (int)values[i], i);
            return 0;
        }
    }
    return 1;
}

/* A signature is two words: a function sets a bit in each, chosen apart, so that two
   functions rarely share both. */
#define WORDS 2

/* signatures(user, function, bits, out): out[user] |= bits[function] for every row (a
   function of -1 reads the last bits); int32 users and functions, uint64 bits and out,
   WORDS of them per function and per user. */
static PyObject *native_signatures(PyObject *module, PyObject *args) {
    Py_buffer user, function, bits, out;
    if (!PyArg_ParseTuple(args, "y*y*y*w*", &user, &function, &bits, &out)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t rows = user.len / 4, n_bits = bits.len / 8 / WORDS;
    Py_ssize_t n_users = out.len / 8 / WORDS;
    const int32_t *u = user.buf, *f = function.buf;
    const uint64_t *b = bits.buf;
    uint64_t *o = out.buf;
    if (function.len != user.len || n_bits < 1) {
        PyErr_SetString(PyExc_ValueError, "a function per user, and the bits of -1");
    } else if (check_range(u, rows, 0, n_users, "user") &&
               check_range(f, rows, -1, n_bits - 1, "function")) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < rows; i++) {
            if (i + AHEAD < rows) __builtin_prefetch(&o[u[i + AHEAD] * WORDS], 1);
            const uint64_t *mine = &b[(f[i] < 0 ? n_bits - 1 : f[i]) * WORDS];
            for (int w = 0; w < WORDS; w++) o[u[i] * WORDS + w] |= mine[w];
        }
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&user);
    PyBuffer_Release(&function);
    PyBuffer_Release(&bits);
    PyBuffer_Release(&out);
    return result;
}

/* maybe(user, function, signature, ptr, needs) -> bytearray of int64 rows: the rows whose
   function has a risk (needs[ptr[f]:ptr[f+1]], WORDS each) with every bit in the user's
   signature. */
static PyObject *native_maybe(PyObject *module, PyObject *args) {
    Py_buffer user, function, signature, ptr, needs;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*", &user, &function, &signature, &ptr, &needs))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t rows = user.len / 4, n_functions = ptr.len / 8 - 1;
    const int32_t *u = user.buf, *f = function.buf;
    const uint64_t *sig = signature.buf, *need = needs.buf;
    const int64_t *p = ptr.buf;
    int ok = function.len == user.len && n_functions >= 0;
    for (Py_ssize_t k = 0; ok && k < n_functions; k++)
        ok = p[k] >= 0 && p[k] <= p[k + 1] && p[k + 1] <= needs.len / 8 / WORDS;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "a function per user, ptr into needs");
    } else if (check_range(u, rows, 0, signature.len / 8 / WORDS, "user") &&
               check_range(f, rows, -1, n_functions, "function")) {
        PyObject *kept = PyByteArray_FromStringAndSize(NULL, rows * 8);
        if (kept) {
            int64_t *k = (int64_t *)PyByteArray_AS_STRING(kept);
            Py_ssize_t n = 0;
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t i = 0; i < rows; i++) {
                if (i + AHEAD < rows) __builtin_prefetch(&sig[u[i + AHEAD] * WORDS]);
                if (f[i] < 0) continue;
                const uint64_t *mine = &sig[u[i] * WORDS];
                for (int64_t j = p[f[i]]; j < p[f[i] + 1]; j++) {
                    const uint64_t *wants = &need[j * WORDS];
                    if ((wants[0] & mine[0]) == wants[0] && (wants[1] & mine[1]) == wants[1]) {
                        k[n++] = i;
                        break;
                    }
                }
            }
            Py_END_ALLOW_THREADS
            if (PyByteArray_Resize(kept, n * 8) < 0) Py_CLEAR(kept);
        }
        result = kept;
    }
    PyBuffer_Release(&user);
    PyBuffer_Release(&function);
    PyBuffer_Release(&signature);
    PyBuffer_Release(&ptr);
    PyBuffer_Release(&needs);
    return result;
}

static PyMethodDef methods[] = {
    {"read", native_read, METH_VARARGS, PyDoc_STR("Parse lines in the common form.")},
    {"signatures", native_signatures, METH_VARARGS,
     PyDoc_STR("OR each row's bit into its user's word.")},
    {"maybe", native_maybe, METH_VARARGS, PyDoc_STR("The rows whose user may complete a risk.")},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native", PyDoc_STR("The hot loops of sod actual: the common CSV form, signatures."), -1,
    methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&KeyTableType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "KeyTable", (PyObject *)&KeyTableType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
