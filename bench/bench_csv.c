/* CSV reader throughput: writes a long-format file (1,000 interleaved
 * series, `timestamp,series,value`) and a NAB-shaped one (`timestamp,value`)
 * to /tmp, then times vg_csv_source polls over each, the reader alone (no
 * detectors). Prints rows/s and MB/s, best of 3 runs, and removes the files.
 *
 *   bench_csv [rows]     (default 10,000,000 rows per file) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/point.h"
#include "bench/util.h"
#include "streams/csv.h"

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 10000000L;
    char long_path[64], single_path[64];
    snprintf(long_path, sizeof(long_path), "/tmp/vigil_bench_long_%d.csv", (int)getpid());
    snprintf(single_path, sizeof(single_path), "/tmp/vigil_bench_nab_%d.csv", (int)getpid());
    printf("writing %ld rows per file ...\n", rows);
    int rc = 1;
    if (vg_bench_write_csv(long_path, rows, 1) == 0 && vg_bench_write_csv(single_path, rows, 0) == 0) {
        printf("reader only, best of %d:\n", VG_BENCH_RUNS);
        rc = vg_bench_time_reader(long_path, "long") < 0 || vg_bench_time_reader(single_path, "nab") < 0;
    }
    unlink(long_path);
    unlink(single_path);
    return rc;
}
