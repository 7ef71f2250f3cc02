/* The process_* metrics from /proc; see vg_metric_process_refresh in
 * vigil_metrics.h. Linux only (the project's platform); a file that cannot
 * be read leaves its metric as it was. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/vigil_metrics.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double cpu_counted;  /* CPU seconds already added to the counter */

/* utime, stime and starttime (clock ticks) from /proc/self/stat: after the
 * command in parentheses, which may hold spaces, fields 14, 15 and 22. */
static int read_stat(double *cpu_s, double *start_ticks)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st, start;
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                                   "%*d %*d %*d %*d %*d %*d %llu", &ut, &st, &start) != 3)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    *cpu_s = (double)(ut + st) / hz;
    *start_ticks = (double)start;
    return 0;
}

static double boot_time(void)
{
    char line[256];
    double btime = -1;
    FILE *f = fopen("/proc/stat", "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "btime %lf", &btime) == 1)
            break;
    if (f)
        fclose(f);
    return btime;
}

static void set_memory_and_fds(void)
{
    unsigned long long size, resident;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%llu %llu", &size, &resident) == 2)
        vg_metric_set(VG_M_PROCESS_RSS, (double)resident * (double)sysconf(_SC_PAGESIZE));
    if (f)
        fclose(f);
    DIR *d = opendir("/proc/self/fd");
    if (d != NULL) {
        size_t open = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL;)
            open += e->d_name[0] != '.';
        closedir(d);
        vg_metric_set(VG_M_PROCESS_FDS, (double)(open - 1));  /* not the one reading */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        vg_metric_set(VG_M_PROCESS_MAX_FDS, (double)rl.rlim_cur);
}

void vg_metric_process_refresh(void)
{
    double cpu, start_ticks;
    pthread_mutex_lock(&lock);
    if (read_stat(&cpu, &start_ticks) == 0) {
        if (cpu > cpu_counted)  /* a counter: add what is new */
            vg_metric_add(VG_M_PROCESS_CPU, cpu - cpu_counted);
        cpu_counted = cpu > cpu_counted ? cpu : cpu_counted;
        double btime = boot_time();
        if (btime > 0)
            vg_metric_set(VG_M_PROCESS_START, btime + start_ticks / (double)sysconf(_SC_CLK_TCK));
    }
    set_memory_and_fds();
    pthread_mutex_unlock(&lock);
}
