/* sgemm throughput of OpenBLAS (cblas_sgemm) and oneDNN (dnnl_sgemm) on the GEMM shapes of a
   ViT-B/16 block at 512² (1024 tokens, width 768, MLP 3072, 12 heads of 64), row-major, as
   the interpreter calls them. Tools/bench.sh builds and runs it:

       cc -O2 Tools/bench/sgemm.c -o sgemm -lopenblas -ldnnl -lgomp -lpthread
       ./sgemm THREADS ROUNDS

   A third side is oneDNN's matmul primitive as a runtime would use it: the weight matrices
   reordered once into the layout the primitive asks for (not timed), the attention products
   as one batched primitive each; it bounds what packed-weight reuse could gain. A fourth is
   the interpreter's own scheme (VitInterp/FastPaths/OneDNNGemm.swift): each GEMM's rows split
   into THREADS near-equal blocks, each computed by dnnl_sgemm on its own thread with one
   OpenMP thread. Where oneDNN's OpenMP threading scales poorly, that one is the fastest, and
   the bench's GEMM floor takes the fastest oneDNN side.

   Per library: the median over ROUNDS of one block's GEMMs (after one warm-up round), as wall
   time and as process CPU time, and GFLOP/s from the wall time. Libraries alternate per
   round, so load from other processes falls on both alike. */
#include <cblas.h>
#include <dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void omp_set_num_threads(int);

typedef struct { int batch, m, n, k, transB; } Shape;

static const Shape block[] = {
    {1, 1024, 2304, 768, 0},  /* qkv */
    {12, 1024, 1024, 64, 1},  /* q·kᵀ per head */
    {12, 1024, 64, 1024, 0},  /* attention · v per head */
    {1, 1024, 768, 768, 0},   /* projection */
    {1, 1024, 3072, 768, 0},  /* MLP fc1 */
    {1, 1024, 768, 3072, 0},  /* MLP fc2 */
};
enum { shapeCount = sizeof block / sizeof block[0], sides = 4, maxThreads = 64 };

/* The matmul primitive of each shape, with its operands' memory objects (weights packed). */
typedef struct { dnnl_primitive_t prim; dnnl_memory_t src, weights, dst; } Prepared;
static dnnl_engine_t engine;
static dnnl_stream_t stream;
static Prepared prepared[shapeCount];

#define CHECK(call) do { if ((call) != dnnl_success) { fprintf(stderr, "oneDNN: %s failed\n", #call); exit(1); } } while (0)

/* A primitive for shape g on a, b, c: a batch of row-major m×k times k×n (n×k when transB)
   products; a weight matrix (batch 1) is reordered once into the primitive's chosen layout. */
static Prepared prepare(Shape g, float *a, float *b, float *c) {
    Prepared p;
    dnnl_memory_desc_t amd, bmd, bplain, cmd;
    dnnl_dims_t ad = {g.batch, g.m, g.k}, bd = {g.batch, g.k, g.n}, cd = {g.batch, g.m, g.n};
    CHECK(dnnl_memory_desc_init_by_tag(&amd, 3, ad, dnnl_f32, dnnl_abc));
    CHECK(dnnl_memory_desc_init_by_tag(&bplain, 3, bd, dnnl_f32, g.transB ? dnnl_acb : dnnl_abc));
    CHECK(dnnl_memory_desc_init_by_tag(&bmd, 3, bd, dnnl_f32, g.batch == 1 ? dnnl_format_tag_any : (g.transB ? dnnl_acb : dnnl_abc)));
    CHECK(dnnl_memory_desc_init_by_tag(&cmd, 3, cd, dnnl_f32, dnnl_abc));
    dnnl_matmul_desc_t desc;
    CHECK(dnnl_matmul_desc_init(&desc, &amd, &bmd, NULL, &cmd));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, engine, NULL));
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    CHECK(dnnl_primitive_create(&p.prim, pd));
    CHECK(dnnl_memory_create(&p.src, &amd, engine, a));
    CHECK(dnnl_memory_create(&p.dst, &cmd, engine, c));
    dnnl_memory_t plain;
    CHECK(dnnl_memory_create(&plain, &bplain, engine, b));
    if (g.batch == 1) {
        CHECK(dnnl_memory_create(&p.weights, wmd, engine, DNNL_MEMORY_ALLOCATE));
        dnnl_primitive_desc_t rpd;
        dnnl_primitive_t reorder;
        CHECK(dnnl_reorder_primitive_desc_create(&rpd, &bplain, engine, wmd, engine, NULL));
        CHECK(dnnl_primitive_create(&reorder, rpd));
        dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, p.weights}};
        CHECK(dnnl_primitive_execute(reorder, stream, 2, args));
        CHECK(dnnl_stream_wait(stream));
    } else {
        p.weights = plain;
    }
    return p;
}

static double now(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Rows [lo, hi) of one row-major GEMM, on the calling thread with one OpenMP thread. */
typedef struct { Shape g; const float *A, *B; float *C; int lo, hi; } RowBlock;

static void *rowBlock(void *arg) {
    RowBlock *r = arg;
    omp_set_num_threads(1);
    if (r->hi > r->lo)
        dnnl_sgemm('N', r->g.transB ? 'T' : 'N', r->hi - r->lo, r->g.n, r->g.k, 1, r->A + (size_t)r->lo * r->g.k,
                   r->g.k, r->B, r->g.transB ? r->g.k : r->g.n, 0, r->C + (size_t)r->lo * r->g.n, r->g.n);
    return NULL;
}

static int threadCount = 2;

/* One GEMM's rows in threadCount near-equal blocks, one thread each (the interpreter's scheme). */
static void splitRows(Shape g, const float *A, const float *B, float *C) {
    pthread_t workers[maxThreads];
    RowBlock blocks[maxThreads];
    for (int t = 0; t < threadCount; t++) {
        blocks[t] = (RowBlock){g, A, B, C, g.m * t / threadCount, g.m * (t + 1) / threadCount};
        if (t > 0 && pthread_create(&workers[t], NULL, rowBlock, &blocks[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    rowBlock(&blocks[0]);
    for (int t = 1; t < threadCount; t++) pthread_join(workers[t], NULL);
    omp_set_num_threads(threadCount);
}

/* One block's GEMMs through side `lib` (0 OpenBLAS, 1 oneDNN sgemm, 2 oneDNN matmul, 3 oneDNN
   sgemm with rows split over threads). */
static void run(int lib, float *a, float *b, float *c) {
    for (int s = 0; s < shapeCount; s++) {
        if (lib == 2) {
            dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, prepared[s].src}, {DNNL_ARG_WEIGHTS, prepared[s].weights},
                                      {DNNL_ARG_DST, prepared[s].dst}};
            CHECK(dnnl_primitive_execute(prepared[s].prim, stream, 3, args));
            CHECK(dnnl_stream_wait(stream));
            continue;
        }
        Shape g = block[s];
        for (int i = 0; i < g.batch; i++) {
            const float *A = a + (size_t)i * g.m * g.k, *B = b + (size_t)i * g.k * g.n;
            float *C = c + (size_t)i * g.m * g.n;
            int ldb = g.transB ? g.k : g.n;
            if (lib == 0)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans, g.m, g.n, g.k,
                            1, A, g.k, B, ldb, 0, C, g.n);
            else if (lib == 3)
                splitRows(g, A, B, C);
            else
                dnnl_sgemm('N', g.transB ? 'T' : 'N', g.m, g.n, g.k, 1, A, g.k, B, ldb, 0, C, g.n);
        }
    }
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (threads < 1 || threads > maxThreads || rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: sgemm THREADS(1…%d) ROUNDS(1…1000)\n", maxThreads);
        return 2;
    }
    threadCount = threads;
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
    double flops = 0;
    size_t most = 0;
    for (int s = 0; s < shapeCount; s++) {
        Shape g = block[s];
        flops += 2.0 * g.batch * g.m * g.n * g.k;
        size_t sizes[] = {(size_t)g.batch * g.m * g.k, (size_t)g.batch * g.k * g.n, (size_t)g.batch * g.m * g.n};
        for (int i = 0; i < 3; i++) most = sizes[i] > most ? sizes[i] : most;
    }
    float *a = malloc(most * sizeof *a), *b = malloc(most * sizeof *b), *c = malloc(most * sizeof *c);
    if (!a || !b || !c) return 1;
    for (size_t i = 0; i < most; i++) {
        a[i] = (float)((i * 7919) % 2001) / 1000.0f - 1;
        b[i] = (float)((i * 104729) % 2001) / 1000.0f - 1;
    }
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    for (int s = 0; s < shapeCount; s++) prepared[s] = prepare(block[s], a, b, c);
    double *wall[sides], *cpu[sides];
    for (int lib = 0; lib < sides; lib++) {
        wall[lib] = malloc(rounds * sizeof(double));
        cpu[lib] = malloc(rounds * sizeof(double));
        run(lib, a, b, c);
    }
    for (int r = 0; r < rounds; r++) {
        for (int lib = 0; lib < sides; lib++) {
            usleep(200000);  /* lets the previous side's idle threads stop spinning (OpenBLAS: ~0.1 s) */
            double w = now(CLOCK_MONOTONIC), p = now(CLOCK_PROCESS_CPUTIME_ID);
            run(lib, a, b, c);
            wall[lib][r] = now(CLOCK_MONOTONIC) - w;
            cpu[lib][r] = now(CLOCK_PROCESS_CPUTIME_ID) - p;
        }
    }
    const char *names[] = {"openblas", "onednn", "onednn matmul, weights packed once",
                           "onednn sgemm, rows split over threads"};
    for (int lib = 0; lib < sides; lib++) {
        qsort(wall[lib], rounds, sizeof(double), compare);
        qsort(cpu[lib], rounds, sizeof(double), compare);
        double w = wall[lib][rounds / 2];
        printf("%s threads %d: wall %.4f s (min %.4f max %.4f) cpu %.4f s, %.1f GFLOP/s for %.1f GFLOP\n", names[lib],
               threads, w, wall[lib][0], wall[lib][rounds - 1], cpu[lib][rounds / 2], flops / w * 1e-9, flops * 1e-9);
    }
    return 0;
}
