// A fork-join pool for the fused few-row products. Decoding runs a few hundred small products per
// token, each a few microseconds to a few hundred: waking sleeping threads for each one (as a
// general-purpose dispatcher does) costs as much as the work. Helpers here spin briefly after each
// job and only then sleep, so back-to-back products start at once.
//
// Work is handed out in chunks of rows from an atomic counter, and the caller takes chunks too:
// when another process holds the other cores and a helper is not running, the caller does the
// work itself instead of waiting for a thread that is not scheduled. Each output row is computed
// by exactly one thread, in the same order whoever runs it, so results do not depend on threads.
//
// The job description is published seqlock-style: `generation` is odd while the caller rewrites
// it; a helper announces itself in `active` and then re-checks the generation before reading.
#include "cquant.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_HELPERS 63
// Pauses before a helper sleeps (~0.1–0.5 ms), and before a waiting caller yields its core.
#define SPIN_LIMIT 20000
#define YIELD_AFTER 2000

typedef struct {
    uint32_t type; const void *w; int64_t row_bytes, k, n; const float *x; int64_t ldx; int m; float *y; int64_t ldy; int accumulate;
    int64_t chunk_rows, chunks;
    const void *xq; // non-null: a one-row product with int8 activations (lnq_gemv_q8)
} job_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t submit = PTHREAD_MUTEX_INITIALIZER; // one job at a time
static _Atomic uint64_t generation = 0;                    // even: published; odd: being written
static _Atomic int active = 0;                             // helpers reading or running the job
static _Atomic int sleepers = 0;
static _Atomic int64_t next_chunk = 0, done_chunks = 0;
static job_t current;
static int helpers = 0;

// Claims and runs chunks until none are left.
static void work(const job_t *j) {
    for (;;) {
        const int64_t c = atomic_fetch_add_explicit(&next_chunk, 1, memory_order_relaxed);
        if (c >= j->chunks) return;
        const int64_t j0 = c * j->chunk_rows, j1 = j0 + j->chunk_rows < j->n ? j0 + j->chunk_rows : j->n;
        if (j->xq) lnq_gemv_q8(j->type, j->w, j->row_bytes, j->k, j0, j1, j->xq, j->y, j->accumulate);
        else lnq_gemv(j->type, j->w, j->row_bytes, j->k, j0, j1, j->x, j->ldx, j->m, j->y, j->ldy, j->accumulate);
        atomic_fetch_add_explicit(&done_chunks, 1, memory_order_release);
    }
}

static void *helper_main(void *arg) {
    (void)arg;
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        int spins = 0;
        while ((g = atomic_load(&generation)) == seen || (g & 1)) {
            if (++spins < SPIN_LIMIT) { CPU_RELAX(); continue; }
            pthread_mutex_lock(&lock);
            atomic_fetch_add(&sleepers, 1);
            while ((g = atomic_load(&generation)) == seen || (g & 1)) pthread_cond_wait(&wake, &lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&lock);
            spins = 0;
        }
        atomic_fetch_add(&active, 1);
        if (atomic_load(&generation) == g) {
            const job_t j = current;
            work(&j);
            seen = g;
        }
        atomic_fetch_sub(&active, 1);
    }
    return NULL;
}

// Starts helpers up to `want` (called with `submit` held).
static void ensure_helpers(int want) {
    if (want > MAX_HELPERS) want = MAX_HELPERS;
    while (helpers < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int ok = pthread_create(&t, &attr, helper_main, NULL) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) break;
        helpers++;
    }
}

static void wait_until(_Atomic int64_t *counter, int64_t target) {
    int spins = 0;
    while (atomic_load_explicit(counter, memory_order_acquire) < target) {
        if (++spins < YIELD_AFTER) CPU_RELAX(); else { sched_yield(); spins = 0; }
    }
}

// Runs `job` (its chunking is set here) on the caller and up to `threads` − 1 helpers.
static void run_parallel(job_t job, int threads) {
    pthread_mutex_lock(&submit);
    ensure_helpers(threads - 1);
    // Chunks of at least ~32k weights, about 8 per thread, so a late helper costs little.
    int64_t rows = (job.n + 8 * threads - 1) / (8 * threads);
    const int64_t min_rows = (32768 + job.k - 1) / job.k;
    if (rows < min_rows) rows = min_rows;
    job.chunk_rows = rows;
    job.chunks = (job.n + rows - 1) / rows;

    atomic_fetch_add(&generation, 1); // odd: helpers keep off the job slot
    int spins = 0;
    while (atomic_load(&active) > 0) { if (++spins < YIELD_AFTER) CPU_RELAX(); else { sched_yield(); spins = 0; } }
    current = job;
    atomic_store(&next_chunk, 0);
    atomic_store(&done_chunks, 0);
    atomic_fetch_add(&generation, 1); // even: published
    if (atomic_load(&sleepers) > 0) { pthread_mutex_lock(&lock); pthread_cond_broadcast(&wake); pthread_mutex_unlock(&lock); }
    work(&current);
    wait_until(&done_chunks, job.chunks);
    pthread_mutex_unlock(&submit);
}

void lnq_gemv_parallel(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t n,
                       const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate, int threads) {
    if (threads > n) threads = (int)n;
    if (threads <= 1) { lnq_gemv(type, w, row_bytes, k, 0, n, x, ldx, m, y, ldy, accumulate); return; }
    run_parallel((job_t){ type, w, row_bytes, k, n, x, ldx, m, y, ldy, accumulate, 0, 0, NULL }, threads);
}

void lnq_gemv_q8_parallel(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t n,
                          const void *xq, float *y, int accumulate, int threads) {
    if (threads > n) threads = (int)n;
    if (threads <= 1) { lnq_gemv_q8(type, w, row_bytes, k, 0, n, xq, y, accumulate); return; }
    run_parallel((job_t){ type, w, row_bytes, k, n, NULL, 0, 1, y, n, accumulate, 0, 0, xq }, threads);
}
