/* berth — which cgroup hierarchy the host has (include/berth/unit.h), apart
 * from unit.c: berth-generator asks it, and needs no sd-bus. */
#include "config.h"

#include <sys/vfs.h>

#include "berth/unit.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* (asked at every start: the host's hierarchy does not change under a process) */
bool cgroup_unified(void)
{
        static int unified = -1;
        if (unified < 0) {
                struct statfs fs;
                unified = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
        }
        return unified;
}
