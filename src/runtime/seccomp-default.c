/* berth — Docker's default seccomp profile, as the JSON text Docker ships
 * (moby/profiles seccomp/default.json), fed to the same parser as a user's
 * `--security-opt seccomp=FILE` profile (src/runtime/seccomp.c).
 *
 * Content: moby/profiles after "seccomp: add add_key, keyctl, request_key"
 * (kernel keyrings are user-namespaced since 5.3), with the syscalls of
 * kernels up to 6.13, plus moby PR 52494 (CVE-2026-31431 "Copy Fail"): socket()
 * is allowed for every address family except AF_ALG (38) and AF_VSOCK (40),
 * written as three rules (< 38, == 39, > 40) because one rule cannot hold two
 * conditions on the same argument.
 *
 * What it does, in short: default action EPERM; a large allowlist; personality
 * only for PER_LINUX / PER_LINUX32 / UNAME26 variants and the query value;
 * clone without namespace flags and clone3 → ENOSYS unless CAP_SYS_ADMIN;
 * mount/umount/unshare/setns/... only with CAP_SYS_ADMIN; ptrace & co. with
 * CAP_SYS_PTRACE (or kernel ≥ 4.8); reboot with CAP_SYS_BOOT; module syscalls
 * with CAP_SYS_MODULE; time setting with CAP_SYS_TIME; NUMA policy with
 * CAP_SYS_NICE; syslog with CAP_SYSLOG; bpf with CAP_BPF; perf_event_open with
 * CAP_PERFMON; architecture-specific calls only on their architecture.
 * Syscall names libseccomp does not know yet are skipped at build time.
 */
#include "config.h"

#include "berth/seccomp.h"

/* CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWCGROUP */
#define NS_FLAGS "2114060288"
#define ALLOW_WITH_CAP(names, cap) \
        "{\"names\":[" names "],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"" cap "\"]}},"
#define ALLOW_ON_ARCH(names, arches) \
        "{\"names\":[" names "],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[" arches "]}},"
#define ALLOW_IF_ARG0(name, op, value) \
        "{\"names\":[\"" name "\"],\"action\":\"SCMP_ACT_ALLOW\"," \
        "\"args\":[{\"index\":0,\"value\":" value ",\"op\":\"" op "\"}]},"

const char seccomp_default_profile_json[] =
        "{"
        "\"defaultAction\":\"SCMP_ACT_ERRNO\","
        "\"defaultErrnoRet\":1,"
        "\"archMap\":["
        "{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]},"
        "{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]},"
        "{\"architecture\":\"SCMP_ARCH_MIPS64\",\"subArchitectures\":[\"SCMP_ARCH_MIPS\",\"SCMP_ARCH_MIPS64N32\"]},"
        "{\"architecture\":\"SCMP_ARCH_MIPS64N32\",\"subArchitectures\":[\"SCMP_ARCH_MIPS\",\"SCMP_ARCH_MIPS64\"]},"
        "{\"architecture\":\"SCMP_ARCH_MIPSEL64\",\"subArchitectures\":[\"SCMP_ARCH_MIPSEL\",\"SCMP_ARCH_MIPSEL64N32\"]},"
        "{\"architecture\":\"SCMP_ARCH_MIPSEL64N32\",\"subArchitectures\":[\"SCMP_ARCH_MIPSEL\",\"SCMP_ARCH_MIPSEL64\"]},"
        "{\"architecture\":\"SCMP_ARCH_S390X\",\"subArchitectures\":[\"SCMP_ARCH_S390\"]},"
        "{\"architecture\":\"SCMP_ARCH_RISCV64\",\"subArchitectures\":null}"
        "],"
        "\"syscalls\":["
        /* always allowed */
        "{\"names\":["
        "\"accept\",\"accept4\",\"access\",\"add_key\",\"adjtimex\",\"alarm\",\"bind\",\"brk\",\"cachestat\","
        "\"capget\",\"capset\",\"chdir\",\"chmod\",\"chown\",\"chown32\",\"clock_adjtime\",\"clock_adjtime64\","
        "\"clock_getres\",\"clock_getres_time64\",\"clock_gettime\",\"clock_gettime64\",\"clock_nanosleep\","
        "\"clock_nanosleep_time64\",\"close\",\"close_range\",\"connect\",\"copy_file_range\",\"creat\",\"dup\","
        "\"dup2\",\"dup3\",\"epoll_create\",\"epoll_create1\",\"epoll_ctl\",\"epoll_ctl_old\",\"epoll_pwait\","
        "\"epoll_pwait2\",\"epoll_wait\",\"epoll_wait_old\",\"eventfd\",\"eventfd2\",\"execve\",\"execveat\","
        "\"exit\",\"exit_group\",\"faccessat\",\"faccessat2\",\"fadvise64\",\"fadvise64_64\",\"fallocate\","
        "\"fanotify_mark\",\"fchdir\",\"fchmod\",\"fchmodat\",\"fchmodat2\",\"fchown\",\"fchown32\",\"fchownat\","
        "\"fcntl\",\"fcntl64\",\"fdatasync\",\"fgetxattr\",\"flistxattr\",\"flock\",\"fork\",\"fremovexattr\","
        "\"fsetxattr\",\"fstat\",\"fstat64\",\"fstatat64\",\"fstatfs\",\"fstatfs64\",\"fsync\",\"ftruncate\","
        "\"ftruncate64\",\"futex\",\"futex_requeue\",\"futex_time64\",\"futex_wait\",\"futex_waitv\",\"futex_wake\","
        "\"futimesat\",\"getcpu\",\"getcwd\",\"getdents\",\"getdents64\",\"getegid\",\"getegid32\",\"geteuid\","
        "\"geteuid32\",\"getgid\",\"getgid32\",\"getgroups\",\"getgroups32\",\"getitimer\",\"getpeername\","
        "\"getpgid\",\"getpgrp\",\"getpid\",\"getppid\",\"getpriority\",\"getrandom\",\"getresgid\",\"getresgid32\","
        "\"getresuid\",\"getresuid32\",\"getrlimit\",\"get_robust_list\",\"getrusage\",\"getsid\",\"getsockname\","
        "\"getsockopt\",\"get_thread_area\",\"gettid\",\"gettimeofday\",\"getuid\",\"getuid32\",\"getxattr\","
        "\"getxattrat\",\"inotify_add_watch\",\"inotify_init\",\"inotify_init1\",\"inotify_rm_watch\",\"io_cancel\","
        "\"ioctl\",\"io_destroy\",\"io_getevents\",\"io_pgetevents\",\"io_pgetevents_time64\",\"ioprio_get\","
        "\"ioprio_set\",\"io_setup\",\"io_submit\",\"ipc\",\"keyctl\",\"kill\",\"landlock_add_rule\","
        "\"landlock_create_ruleset\",\"landlock_restrict_self\",\"lchown\",\"lchown32\",\"lgetxattr\",\"link\","
        "\"linkat\",\"listen\",\"listmount\",\"listxattr\",\"listxattrat\",\"llistxattr\",\"_llseek\",\"lremovexattr\","
        "\"lseek\",\"lsetxattr\",\"lstat\",\"lstat64\",\"madvise\",\"map_shadow_stack\",\"membarrier\",\"memfd_create\","
        "\"memfd_secret\",\"mincore\",\"mkdir\",\"mkdirat\",\"mknod\",\"mknodat\",\"mlock\",\"mlock2\",\"mlockall\","
        "\"mmap\",\"mmap2\",\"mprotect\",\"mq_getsetattr\",\"mq_notify\",\"mq_open\",\"mq_timedreceive\","
        "\"mq_timedreceive_time64\",\"mq_timedsend\",\"mq_timedsend_time64\",\"mq_unlink\",\"mremap\",\"mseal\","
        "\"msgctl\",\"msgget\",\"msgrcv\",\"msgsnd\",\"msync\",\"munlock\",\"munlockall\",\"munmap\","
        "\"name_to_handle_at\",\"nanosleep\",\"newfstatat\",\"_newselect\",\"open\",\"openat\",\"openat2\",\"pause\","
        "\"pidfd_open\",\"pidfd_send_signal\",\"pipe\",\"pipe2\",\"pkey_alloc\",\"pkey_free\",\"pkey_mprotect\","
        "\"poll\",\"ppoll\",\"ppoll_time64\",\"prctl\",\"pread64\",\"preadv\",\"preadv2\",\"prlimit64\","
        "\"process_mrelease\",\"pselect6\",\"pselect6_time64\",\"pwrite64\",\"pwritev\",\"pwritev2\",\"read\","
        "\"readahead\",\"readlink\",\"readlinkat\",\"readv\",\"recv\",\"recvfrom\",\"recvmmsg\",\"recvmmsg_time64\","
        "\"recvmsg\",\"remap_file_pages\",\"removexattr\",\"removexattrat\",\"rename\",\"renameat\",\"renameat2\","
        "\"request_key\",\"restart_syscall\",\"riscv_hwprobe\",\"rmdir\",\"rseq\",\"rt_sigaction\",\"rt_sigpending\","
        "\"rt_sigprocmask\",\"rt_sigqueueinfo\",\"rt_sigreturn\",\"rt_sigsuspend\",\"rt_sigtimedwait\","
        "\"rt_sigtimedwait_time64\",\"rt_tgsigqueueinfo\",\"sched_getaffinity\",\"sched_getattr\","
        "\"sched_getparam\",\"sched_get_priority_max\",\"sched_get_priority_min\",\"sched_getscheduler\","
        "\"sched_rr_get_interval\",\"sched_rr_get_interval_time64\",\"sched_setaffinity\",\"sched_setattr\","
        "\"sched_setparam\",\"sched_setscheduler\",\"sched_yield\",\"seccomp\",\"select\",\"semctl\",\"semget\","
        "\"semop\",\"semtimedop\",\"semtimedop_time64\",\"send\",\"sendfile\",\"sendfile64\",\"sendmmsg\",\"sendmsg\","
        "\"sendto\",\"setfsgid\",\"setfsgid32\",\"setfsuid\",\"setfsuid32\",\"setgid\",\"setgid32\",\"setgroups\","
        "\"setgroups32\",\"setitimer\",\"setpgid\",\"setpriority\",\"setregid\",\"setregid32\",\"setresgid\","
        "\"setresgid32\",\"setresuid\",\"setresuid32\",\"setreuid\",\"setreuid32\",\"setrlimit\",\"set_robust_list\","
        "\"setsid\",\"setsockopt\",\"set_thread_area\",\"set_tid_address\",\"setuid\",\"setuid32\",\"setxattr\","
        "\"setxattrat\",\"shmat\",\"shmctl\",\"shmdt\",\"shmget\",\"shutdown\",\"sigaltstack\",\"signalfd\","
        "\"signalfd4\",\"sigprocmask\",\"sigreturn\",\"socketcall\",\"socketpair\",\"splice\",\"stat\",\"stat64\","
        "\"statfs\",\"statfs64\",\"statmount\",\"statx\",\"symlink\",\"symlinkat\",\"sync\",\"sync_file_range\","
        "\"syncfs\",\"sysinfo\",\"tee\",\"tgkill\",\"time\",\"timer_create\",\"timer_delete\",\"timer_getoverrun\","
        "\"timer_gettime\",\"timer_gettime64\",\"timer_settime\",\"timer_settime64\",\"timerfd_create\","
        "\"timerfd_gettime\",\"timerfd_gettime64\",\"timerfd_settime\",\"timerfd_settime64\",\"times\",\"tkill\","
        "\"truncate\",\"truncate64\",\"ugetrlimit\",\"umask\",\"uname\",\"unlink\",\"unlinkat\",\"uretprobe\","
        "\"utime\",\"utimensat\",\"utimensat_time64\",\"utimes\",\"vfork\",\"vmsplice\",\"wait4\",\"waitid\","
        "\"waitpid\",\"write\",\"writev\""
        "],\"action\":\"SCMP_ACT_ALLOW\"},"
        "{\"names\":[\"process_vm_readv\",\"process_vm_writev\",\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\","
        "\"includes\":{\"minKernel\":\"4.8\"}},"
        /* socket: every family but AF_ALG (38) and AF_VSOCK (40) */
        ALLOW_IF_ARG0("socket", "SCMP_CMP_LT", "38")
        ALLOW_IF_ARG0("socket", "SCMP_CMP_EQ", "39")
        ALLOW_IF_ARG0("socket", "SCMP_CMP_GT", "40")
        /* personality: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, query */
        ALLOW_IF_ARG0("personality", "SCMP_CMP_EQ", "0")
        ALLOW_IF_ARG0("personality", "SCMP_CMP_EQ", "8")
        ALLOW_IF_ARG0("personality", "SCMP_CMP_EQ", "131072")
        ALLOW_IF_ARG0("personality", "SCMP_CMP_EQ", "131080")
        ALLOW_IF_ARG0("personality", "SCMP_CMP_EQ", "4294967295")
        ALLOW_ON_ARCH("\"sync_file_range2\",\"swapcontext\"", "\"ppc64le\"")
        ALLOW_ON_ARCH("\"arm_fadvise64_64\",\"arm_sync_file_range\",\"sync_file_range2\",\"breakpoint\","
                      "\"cacheflush\",\"set_tls\"",
                      "\"arm\",\"arm64\"")
        ALLOW_ON_ARCH("\"arch_prctl\"", "\"amd64\",\"x32\"")
        ALLOW_ON_ARCH("\"modify_ldt\"", "\"amd64\",\"x32\",\"x86\"")
        ALLOW_ON_ARCH("\"s390_pci_mmio_read\",\"s390_pci_mmio_write\",\"s390_runtime_instr\"", "\"s390\",\"s390x\"")
        ALLOW_ON_ARCH("\"riscv_flush_icache\"", "\"riscv64\"")
        ALLOW_WITH_CAP("\"open_by_handle_at\"", "CAP_DAC_READ_SEARCH")
        ALLOW_WITH_CAP("\"bpf\",\"clone\",\"clone3\",\"fanotify_init\",\"fsconfig\",\"fsmount\",\"fsopen\","
                       "\"fspick\",\"lookup_dcookie\",\"lsm_get_self_attr\",\"lsm_list_modules\","
                       "\"lsm_set_self_attr\",\"mount\",\"mount_setattr\",\"move_mount\",\"open_tree\","
                       "\"perf_event_open\",\"quotactl\",\"quotactl_fd\",\"setdomainname\",\"sethostname\","
                       "\"setns\",\"syslog\",\"umount\",\"umount2\",\"unshare\"",
                       "CAP_SYS_ADMIN")
        /* clone without namespace flags (flags are arg 0, arg 1 on s390) */
        "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\","
        "\"args\":[{\"index\":0,\"value\":" NS_FLAGS ",\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}],"
        "\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\"],\"arches\":[\"s390\",\"s390x\"]}},"
        "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\","
        "\"args\":[{\"index\":1,\"value\":" NS_FLAGS ",\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}],"
        "\"comment\":\"s390 parameter ordering for clone is different\","
        "\"includes\":{\"arches\":[\"s390\",\"s390x\"]},\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
        /* clone3 flags live in memory seccomp cannot read: ENOSYS makes libc fall back to clone */
        "{\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,"
        "\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
        ALLOW_WITH_CAP("\"reboot\"", "CAP_SYS_BOOT")
        ALLOW_WITH_CAP("\"chroot\"", "CAP_SYS_CHROOT")
        ALLOW_WITH_CAP("\"delete_module\",\"init_module\",\"finit_module\"", "CAP_SYS_MODULE")
        ALLOW_WITH_CAP("\"acct\"", "CAP_SYS_PACCT")
        ALLOW_WITH_CAP("\"kcmp\",\"pidfd_getfd\",\"process_madvise\",\"process_vm_readv\",\"process_vm_writev\","
                       "\"ptrace\"",
                       "CAP_SYS_PTRACE")
        ALLOW_WITH_CAP("\"iopl\",\"ioperm\"", "CAP_SYS_RAWIO")
        ALLOW_WITH_CAP("\"settimeofday\",\"stime\",\"clock_settime\",\"clock_settime64\"", "CAP_SYS_TIME")
        ALLOW_WITH_CAP("\"vhangup\"", "CAP_SYS_TTY_CONFIG")
        ALLOW_WITH_CAP("\"get_mempolicy\",\"mbind\",\"set_mempolicy\",\"set_mempolicy_home_node\"", "CAP_SYS_NICE")
        ALLOW_WITH_CAP("\"syslog\"", "CAP_SYSLOG")
        ALLOW_WITH_CAP("\"bpf\"", "CAP_BPF")
        /* last entry: no trailing comma */
        "{\"names\":[\"perf_event_open\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_PERFMON\"]}}"
        "]"
        "}";
