/* Unit tests: definition files (definition.h) — the systemd INI reader, the
 * [Container] key table and its `berth run` arguments, specifiers, errors
 * with FILE:LINE, the generator drop-in, links and the search path.  Runs
 * under valgrind in CI (CK_FORK=no), so everything is freed. */
#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "berth/definition.h"
#include "berth/util.h"
#include "check-main.h"
#include "strv-check.h"
#include "tmpdir-fixture.h"

static void setup(void)
{
        tmpdir_make("def");
}

static void teardown(void)
{
        tmpdir_remove();
        unsetenv("BERTH_DEFINITION_PATH");
}

/* Write DIR/NAME.container (DIR relative to tmpdir, "" for tmpdir). */
static char *write_def(const char *dir, const char *name, const char *text)
{
        cleanup_free char *d = *dir ? xasprintf("%s/%s", tmpdir, dir) : xstrdup(tmpdir);
        ck_assert_int_eq(mkdir_p(d, 0755, NULL), 0);
        char *path = xasprintf("%s/%s.container", d, name);
        ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0644, NULL), 0);
        return path;
}

static struct definition *load_named(const char *name, const char *text)
{
        cleanup_free char *path = write_def("", name, text);
        struct definition *d = NULL;
        cleanup_error berth_error_t err = NULL;
        int r = definition_load(path, name, &d, &err);
        ck_assert_msg(r == 0, "definition_load: %s", err ? err->msg : "?");
        ck_assert_ptr_nonnull(d);
        return d;
}

static struct definition *load_ok(const char *text)
{
        return load_named("web", text);
}

/* The error of loading text as web.container, with the temp dir replaced by "DIR". */
static char *load_err(const char *text)
{
        cleanup_free char *path = write_def("", "web", text);
        struct definition *d = NULL;
        berth_error_t err = NULL;
        ck_assert_int_lt(definition_load(path, "web", &d, &err), 0);
        ck_assert_ptr_null(d);
        ck_assert_ptr_nonnull(err);
        const char *m = err->msg;
        char *out = startswith(m, tmpdir) ? xasprintf("DIR%s", m + strlen(tmpdir)) : xstrdup(m);
        berth_error_free(&err);
        return out;
}

#define ERR_EQ(text, want)                                      \
        do {                                                    \
                cleanup_free char *_m = load_err(text);         \
                ck_assert_str_eq(_m, want);                     \
        } while (0)


/* Index of the line "s" in text, or -1. */
static long line_at(const char *text, const char *s)
{
        size_t n = strlen(s);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, s, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
                        return p - text;
        return -1;
}

/* ---- syntax ----------------------------------------------------------------------- */

START_TEST(test_syntax)
{
        cleanup_definition struct definition *d = load_ok(
                "\xef\xbb\xbf# a comment\n"
                "; another comment\n"
                "   # an indented comment\n"
                "\n"
                "[Container]\r\n"
                "  Image  =   busybox:latest   \n"
                "HostName=a\\\n"
                "# a comment inside a continuation is skipped\n"
                "   b\n"
                "[X-Custom]\n"
                "Whatever=anything\n"
                "[Container]\n"
                "X-Note=ignored\n"
                "Network=host\n"
                "Tmpfs=/run \\\n"
                "\n"
                "[Unit]\n"
                "Description = a test \n");
        ck_assert_str_eq(d->name, "web");
        ck_assert_str_eq(d->image, "busybox:latest");
        ck_assert_str_eq(d->container_name, "web");
        ck_assert_str_eq(d->pull, "missing");
        ck_assert_int_eq(d->stop_timeout, -1);
        ck_assert(!d->notify);
        ck_assert(!d->publishes);
        ck_assert_ptr_null(d->command);
        /* the backslash becomes a space; a trailing one at a blank line ends */
        STRV_EQ(d->run_args, "--tmpfs", "/run", "--network", "host", "--hostname", "a    b");
        STRV_EQ(d->unit_lines, "Description=a test");
}
END_TEST

START_TEST(test_escaped_backslash_is_not_continuation)
{
        cleanup_definition struct definition *d = load_ok("[Container]\n"
                                                           "Image=x\n"
                                                           "Exec=echo a\\\\\n"
                                                           "Network=none\n");
        STRV_EQ(d->command, "echo", "a\\");
        STRV_EQ(d->run_args, "--network", "none");
}
END_TEST

/* Network= repeated: one --network each; NetworkAlias= on every user
 * network then (Podman's meaning), in the long form berth run takes */
START_TEST(test_several_networks)
{
        cleanup_definition struct definition *one = load_ok("[Container]\nImage=x\nNetwork=a\nNetworkAlias=w\n");
        STRV_EQ(one->run_args, "--network", "a", "--network-alias", "w");
        cleanup_definition struct definition *d = load_ok("[Container]\n"
                                                          "Image=x\n"
                                                          "Network=front\n"
                                                          "Network=back:alias=db,ip=10.89.0.5\n"
                                                          "NetworkAlias=w\n"
                                                          "NetworkAlias=www\n");
        STRV_EQ(d->run_args, "--network", "name=front,alias=w,alias=www", "--network",
                "name=back,alias=db,ip=10.89.0.5,alias=w,alias=www");
        /* an empty assignment resets, as for every list */
        cleanup_definition struct definition *r = load_ok("[Container]\nImage=x\nNetwork=a\nNetwork=\nNetwork=b\n");
        STRV_EQ(r->run_args, "--network", "b");
        /* pasta:OPTIONS are pasta's own arguments, passed on whole */
        cleanup_definition struct definition *pa = load_ok("[Container]\nImage=x\nNetwork=pasta:-T,none\nNetworkAlias=w\n");
        STRV_EQ(pa->run_args, "--network", "pasta:-T,none", "--network-alias", "w");
        ERR_EQ("[Container]\nImage=x\nNetwork=a:mac=1\n",
               "DIR/web.container:3: invalid field key \"mac\" in --network name=a,mac=1 (name, alias, ip)");
}
END_TEST

START_TEST(test_quotes)
{
        cleanup_definition struct definition *d = load_ok(
                "[Container]\n"
                "Image=busybox\n"
                "Exec=sh -c 'echo \"a b\"; exit 3' x\\ty \"c\"d '' \\x41\\101\\u00e9 \"q\\\"q\"\n"
                "Environment=A=1 \"B=two words\" C='it''s' D=\"x\\ny\"\n"
                "Environment=E=\n"
                "Label=app=web \"tier=front end\" solo\n");
        STRV_EQ(d->command, "sh", "-c", "echo \"a b\"; exit 3", "x\ty", "cd", "", "AA\xc3\xa9", "q\"q");
        STRV_EQ(d->run_args, "-e", "A=1", "-e", "B=two words", "-e", "C=its", "-e", "D=x\ny", "-e", "E=", "-l",
                "app=web", "-l", "tier=front end", "-l", "solo");
}
END_TEST

START_TEST(test_exec_last_wins)
{
        cleanup_definition struct definition *d = load_ok("[Container]\nImage=x\nExec=first one\nExec=second\n");
        STRV_EQ(d->command, "second");
        cleanup_definition struct definition *e = load_ok("[Container]\nImage=x\nExec=first one\nExec=\n");
        ck_assert_ptr_null(e->command);
}
END_TEST

START_TEST(test_empty_assignment_resets)
{
        cleanup_definition struct definition *d = load_ok("[Container]\n"
                                                          "Image=first\n"
                                                          "Image=busybox\n"
                                                          "Volume=/a:/a\n"
                                                          "Volume=\n"
                                                          "Volume=/b:/b\n"
                                                          "Environment=A=1 B=2\n"
                                                          "Environment=\n"
                                                          "Environment=C=3\n"
                                                          "ReadOnly=yes\n"
                                                          "ReadOnly=\n"
                                                          "PublishPort=80\n"
                                                          "PublishPort=\n"
                                                          "Memory=1g\n"
                                                          "Memory=\n"
                                                          "IOReadBandwidthMax=/dev/sda:1mb\n"
                                                          "IOReadBandwidthMax=\n"
                                                          "Ulimit=nofile=10\n"
                                                          "Ulimit=\n"
                                                          "Ulimit=nproc=5\n");
        ck_assert_str_eq(d->image, "busybox");
        STRV_EQ(d->run_args, "-e", "C=3", "-v", "/b:/b");
        ck_assert(!d->publishes);
        ck_assert(!d->limits.set[LIMIT_MEMORY]);
        ck_assert(!d->limits.set[LIMIT_DEVICE_READ_BPS]);
        STRV_EQ(d->ulimit_lines, "LimitNPROC=5");
        ERR_EQ("[Container]\nImage=x\nImage=\n", "DIR/web.container: missing Image= in [Container]");
}
END_TEST

START_TEST(test_specifiers)
{
        char host[HOST_NAME_MAX + 1] = "";
        ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
        cleanup_definition struct definition *d = load_named(
                "my-web", "[Container]\n"
                          "Image=busybox\n"
                          "Exec=%i %I %n %N %p %t %S %h %% 100%% %f %u %U\n"
                          "HostName=%H\n"
                          "[Service]\n"
                          "ExecStartPre=/bin/sh -c 'date +%%s; echo %n'\n"
                          "CPUQuota=50%\n"
                          "[Unit]\n"
                          "Description=web %i\n");
        STRV_EQ(d->command, "my-web", "my/web", "container@my-web.service", "container@my-web", "container", "/run",
                "/var/lib", "/root", "%", "100%", "/my/web", "root", "0");
        STRV_EQ(d->run_args, "--hostname", host);
        /* expanded, a stray % at the end kept as systemd does */
        STRV_EQ(d->service_lines, "ExecStartPre=/bin/sh -c 'date +%s; echo container@my-web.service'",
                "CPUQuota=50%");
        STRV_EQ(d->service_lines_raw, "ExecStartPre=/bin/sh -c 'date +%%s; echo %n'", "CPUQuota=50%");
        STRV_EQ(d->unit_lines, "Description=web my-web");

        ERR_EQ("[Container]\nImage=x\nExec=echo %q\n",
               "DIR/web.container:3: unknown specifier '%q' in 'echo %q' (write %% for a '%')");
        ERR_EQ("[Container]\nImage=x\n[Service]\nEnvironment=A=%Z\n",
               "DIR/web.container:4: unknown specifier '%Z' in 'A=%Z' (write %% for a '%')");
}
END_TEST

START_TEST(test_booleans)
{
        static const char *const yes[] = { "yes", "true", "on", "1", "YES", "y", "t" };
        static const char *const no[] = { "no", "false", "off", "0", "No", "n", "f" };
        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                cleanup_free char *t = xasprintf("[Container]\nImage=x\nReadOnly=%s\nNotify=%s\n", yes[i], yes[i]);
                cleanup_definition struct definition *d = load_ok(t);
                STRV_EQ(d->run_args, "--read-only");
                ck_assert(d->notify);
        }
        for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
                cleanup_free char *t = xasprintf("[Container]\nImage=x\nReadOnly=%s\nNotify=%s\n", no[i], no[i]);
                cleanup_definition struct definition *d = load_ok(t);
                ck_assert_uint_eq(strv_length(d->run_args), 0);
                ck_assert(!d->notify);
        }
        ERR_EQ("[Container]\nImage=x\n\nRunInit=maybe\n", "DIR/web.container:4: invalid boolean: 'maybe' (use yes or no)");
}
END_TEST

/* ---- every key's translation --------------------------------------------------------- */

START_TEST(test_run_args)
{
        cleanup_free char *seccomp = xasprintf("%s/profile.json", tmpdir);
        cleanup_free char *envfile = xasprintf("%s/web.env", tmpdir);
        cleanup_free char *data = xasprintf("%s/data:/data:ro", tmpdir);
        cleanup_definition struct definition *d = load_ok("[Container]\n"
                                                          "Image=nginx:1.25\n"
                                                          "ContainerName=front\n"
                                                          "Exec=nginx -g 'daemon off;'\n"
                                                          "Entrypoint=/docker-entrypoint.sh\n"
                                                          "Environment=A=b\n"
                                                          "EnvironmentFile=web.env\n"
                                                          "EnvironmentFile=/etc/other.env\n"
                                                          "PublishPort=8080:80\n"
                                                          "PublishPort=127.0.0.1:8443:443/tcp\n"
                                                          "Volume=./data:/data:ro\n"
                                                          "Volume=/srv:/srv\n"
                                                          "Volume=named:/cache\n"
                                                          "Mount=type=tmpfs,destination=/m\n"
                                                          "Tmpfs=/tmp:rw,size=64m\n"
                                                          "Network=bridge\n"
                                                          "User=www\n"
                                                          "Group=web\n"
                                                          "WorkingDir=/srv\n"
                                                          "HostName=front.example\n"
                                                          "ReadOnly=true\n"
                                                          "AddCapability=CAP_NET_ADMIN net_raw\n"
                                                          "DropCapability=ALL\n"
                                                          "NoNewPrivileges=yes\n"
                                                          "SeccompProfile=profile.json\n"
                                                          "Label=a=b\n"
                                                          "RunInit=yes\n"
                                                          "StopTimeout=30\n"
                                                          "Notify=yes\n"
                                                          "Pull=never\n");
        ck_assert_str_eq(d->image, "nginx:1.25");
        ck_assert_str_eq(d->container_name, "front");
        STRV_EQ(d->command, "nginx", "-g", "daemon off;");
        ck_assert_str_eq(d->pull, "never");
        ck_assert(d->notify);
        ck_assert(d->publishes);
        ck_assert_int_eq(d->stop_timeout, 30);
        cleanup_free char *seccomp_arg = xasprintf("seccomp=%s", seccomp);
        STRV_EQ(d->run_args, "--entrypoint", "/docker-entrypoint.sh", "-e", "A=b", "--env-file", envfile,
                "--env-file", "/etc/other.env", "-p", "8080:80", "-p", "127.0.0.1:8443:443/tcp", "-v", data, "-v",
                "/srv:/srv", "-v", "named:/cache", "--mount", "type=tmpfs,destination=/m", "--tmpfs",
                "/tmp:rw,size=64m", "--network", "bridge", "-u", "www:web", "-w", "/srv", "--hostname",
                "front.example", "--read-only", "--cap-add", "CAP_NET_ADMIN", "--cap-add", "net_raw", "--cap-drop",
                "ALL", "--security-opt", "no-new-privileges", "--security-opt", seccomp_arg, "-l", "a=b", "--init",
                "--stop-timeout", "30");

        cleanup_definition struct definition *u = load_ok("[Container]\nImage=x\nUser=1000\nSeccompProfile=unconfined\n");
        STRV_EQ(u->run_args, "-u", "1000", "--security-opt", "seccomp=unconfined");
}
END_TEST

/* Quadlet's health keys: run flags, each value checked as run checks it */
START_TEST(test_health_keys)
{
        cleanup_definition struct definition *d = load_ok("[Container]\n"
                                                          "Image=x\n"
                                                          "HealthCmd=curl -f http://localhost/\n"
                                                          "HealthInterval=10s\n"
                                                          "HealthTimeout=2s\n"
                                                          "HealthStartPeriod=1m\n"
                                                          "HealthStartInterval=1s\n"
                                                          "HealthRetries=5\n"
                                                          "HealthOnFailure=kill\n"
                                                          "Notify=healthy\n");
        ck_assert(!d->notify);
        STRV_EQ(d->run_args, "--sdnotify", "healthy", "--health-cmd", "curl -f http://localhost/",
                "--health-interval", "10s", "--health-timeout", "2s", "--health-start-period", "1m",
                "--health-start-interval", "1s", "--health-retries", "5", "--health-on-failure", "kill");
        cleanup_definition struct definition *off = load_ok("[Container]\nImage=x\nHealthCmd=none\n");
        STRV_EQ(off->run_args, "--no-healthcheck");

        ERR_EQ("[Container]\nImage=x\nHealthInterval=10\n",
               "DIR/web.container:3: --health-interval: invalid duration: '10' (use a number of seconds or a Go "
               "duration such as 10s, 1m30s, 500ms)");
        ERR_EQ("[Container]\nImage=x\nHealthRetries=-2\n",
               "DIR/web.container:3: invalid --health-retries -2: a number from 0");
        ERR_EQ("[Container]\nImage=x\nHealthOnFailure=reboot\n",
               "DIR/web.container:3: invalid --health-on-failure reboot: use none, kill, restart or stop");
        ERR_EQ("[Container]\nImage=x\nNotify=later\n", "DIR/web.container:3: invalid Notify= value: 'later' (use yes, no or healthy)");
}
END_TEST

START_TEST(test_ulimit)
{
        cleanup_definition struct definition *d = load_ok("[Container]\n"
                                                          "Image=x\n"
                                                          "Ulimit=nofile=1024:2048\n"
                                                          "Ulimit=nproc=100\n"
                                                          "Ulimit=core=-1\n"
                                                          "Ulimit=memlock=0:-1\n"
                                                          "Ulimit=stack=8388608\n");
        STRV_EQ(d->ulimit_lines, "LimitNOFILE=1024:2048", "LimitNPROC=100", "LimitCORE=infinity",
                "LimitMEMLOCK=0:infinity", "LimitSTACK=8388608");
        ck_assert_uint_eq(strv_length(d->run_args), 0); /* rlimits are the unit's, not run flags */
        cleanup_free char *text = definition_dropin(d);
        ck_assert_int_ge(line_at(text, "LimitNOFILE=1024:2048"), 0);
        ck_assert_int_ge(line_at(text, "LimitCORE=infinity"), 0);
        /* block I/O accounting only where the host's hierarchy gives it */
        ck_assert_int_lt(line_at(text, "IOAccounting=yes"), 0);
        d->io_accounting = true;
        cleanup_free char *unified = definition_dropin(d);
        ck_assert_int_gt(line_at(unified, "IOAccounting=yes"), line_at(unified, "[Service]"));
        /* a stop's 128+N exit (an init's, a shell's) is a clean end: SIGTERM's by default */
        ck_assert_int_gt(line_at(text, "SuccessExitStatus=143"), line_at(text, "[Service]"));
        free(d->stop_signal);
        d->stop_signal = xstrdup("SIGQUIT"); /* the image's STOPSIGNAL */
        cleanup_free char *quit = definition_dropin(d);
        ck_assert_int_ge(line_at(quit, "KillSignal=SIGQUIT"), 0);
        ck_assert_int_ge(line_at(quit, "SuccessExitStatus=131"), 0);
        ck_assert_int_lt(line_at(quit, "SuccessExitStatus=143"), 0);
        /* the definition's own KillSignal= wins, and its own SuccessExitStatus= comes after */
        cleanup_definition struct definition *own = load_ok(
                "[Container]\nImage=x\n[Service]\nKillSignal=2\nSuccessExitStatus=42\n");
        cleanup_free char *own_text = definition_dropin(own);
        ck_assert_int_gt(line_at(own_text, "SuccessExitStatus=42"), line_at(own_text, "SuccessExitStatus=130"));
        ck_assert_int_lt(line_at(own_text, "SuccessExitStatus=143"), 0);
        /* a run to completion succeeds with 0 only */
        cleanup_definition struct definition *once = load_ok("[Container]\nImage=x\n[Service]\nType=oneshot\n");
        cleanup_free char *once_text = definition_dropin(once);
        ck_assert_int_lt(line_at(once_text, "SuccessExitStatus=143"), 0);

        ERR_EQ("[Container]\nImage=x\nUlimit=bogus=1\n", "DIR/web.container:3: invalid ulimit type: bogus");
        ERR_EQ("[Container]\nImage=x\nUlimit=nofile=2048:1024\n",
               "DIR/web.container:3: ulimit soft limit must be less than or equal to hard limit: nofile=2048:1024");
        cleanup_free char *m = load_err("[Container]\nImage=x\nUlimit=nofile\n");
        ck_assert(startswith(m, "DIR/web.container:3: invalid ulimit argument: nofile"));
}
END_TEST

START_TEST(test_limit_keys)
{
        cleanup_definition struct definition *d = load_ok("[Container]\n"
                                                          "Image=x\n"
                                                          "Memory=512M\n"
                                                          "MemoryReservation=256m\n"
                                                          "MemorySwap=1g\n"
                                                          "CPUs=1.5\n"
                                                          "CPUShares=1024\n"
                                                          "CPUSet=0-1,3\n"
                                                          "PidsLimit=100\n"
                                                          "IOWeight=500\n"
                                                          "IOReadBandwidthMax=/dev/sda:1mb\n"
                                                          "IOWriteBandwidthMax=/dev/sdb:2mb\n");
        ck_assert(d->limits.set[LIMIT_MEMORY]);
        ck_assert_uint_eq(d->limits.memory, 536870912ULL);
        ck_assert_int_eq(d->limits.pids_limit, 100);
        ck_assert_uint_eq(d->limits.nano_cpus, 1500000000ULL);
        ck_assert_uint_eq(strv_length(d->run_args), 0); /* limits are unit properties */
        cleanup_free char *text = definition_dropin(d);
        static const char *const want[] = {
                "MemoryMax=536870912",   "MemoryLow=268435456",         "MemorySwapMax=536870912",
                "CPUQuota=150%",         "CPUWeight=39",                "AllowedCPUs=0-1,3",
                "TasksMax=100",          "IOReadBandwidthMax=/dev/sda 1048576",
                "IOWriteBandwidthMax=/dev/sdb 2097152",
        };
        for (size_t i = 0; i < ARRAY_SIZE(want); i++)
                ck_assert_msg(line_at(text, want[i]) >= 0, "no line %s in\n%s", want[i], text);
        ck_assert_int_ge(line_at(text, "IOWeight=4950"), 0);

        ERR_EQ("[Container]\nImage=x\nMemory=12q\n", "DIR/web.container:3: invalid size: '12q'");
        cleanup_free char *m = load_err("[Container]\nImage=x\nCPUs=lots\n");
        ck_assert(startswith(m, "DIR/web.container:3: "));
        /* checks across keys have no single line */
        ERR_EQ("[Container]\nImage=x\nMemory=1m\n", "DIR/web.container: Minimum memory limit allowed is 6MB");
}
END_TEST

/* UserNS=, UIDMap=, GIDMap=, SubUIDMap=, SubGIDMap= (Quadlet's): the run
 * flags, each value checked as the flag checks it. */
START_TEST(test_userns_keys)
{
        cleanup_definition struct definition *d = load_ok("[Container]\nImage=x\nUserNS=auto:size=1000\n");
        ck_assert(strv_contains(d->run_args, "--userns"));
        ck_assert(strv_contains(d->run_args, "auto:size=1000"));
        cleanup_definition struct definition *m = load_ok("[Container]\nImage=x\nUIDMap=0:300000:100\n"
                                                           "UIDMap=100:400000:10\nGIDMap=0:300000:110\n"
                                                           "SubUIDMap=berth\nSubGIDMap=berth\n");
        ck_assert(strv_contains(m->run_args, "--uidmap"));
        ck_assert(strv_contains(m->run_args, "100:400000:10"));
        ck_assert(strv_contains(m->run_args, "--gidmap"));
        ck_assert(strv_contains(m->run_args, "--subuidname"));
        ck_assert(strv_contains(m->run_args, "--subgidname"));
        cleanup_free char *e1 = load_err("[Container]\nImage=x\nUIDMap=0:1\n");
        ck_assert_msg(strstr(e1, "web.container:3") && strstr(e1, "invalid id mapping '0:1'"), "%s", e1);
        cleanup_free char *e2 = load_err("[Container]\nImage=x\nUserNS=keep-id:size=1\n");
        ck_assert_msg(strstr(e2, "web.container:3") && strstr(e2, "keep-id takes uid=N"), "%s", e2);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------ */

START_TEST(test_errors)
{
        ERR_EQ("[Container]\nImage=x\nFoo=bar\n", "DIR/web.container:3: unknown key 'Foo' in section [Container]");
        ERR_EQ("[Contaner]\nImage=x\n",
               "DIR/web.container:1: unknown section [Contaner] (use [Unit], [Container], [Service] or [Install])");
        ERR_EQ("[Container]\nImage=busybox\nMemory=12q\n", "DIR/web.container:3: invalid size: '12q'");
        ERR_EQ("[Container]\nExec=true\n", "DIR/web.container: missing Image= in [Container]");
        ERR_EQ("", "DIR/web.container: missing Image= in [Container]");
        ERR_EQ("Image=x\n", "DIR/web.container:1: assignment outside of a section: 'Image=x'");
        ERR_EQ("[Container]\nImage\n", "DIR/web.container:2: missing '=' in 'Image'");
        ERR_EQ("[Container\n", "DIR/web.container:1: invalid section header '[Container'");
        ERR_EQ("[Container]\n=x\n", "DIR/web.container:2: missing the key before '=x'");
        /* the first line of a continued assignment */
        ERR_EQ("[Container]\nImage=x\nExec='unbalanced \\\n  quote\n",
               "DIR/web.container:3: unbalanced quotes in ''unbalanced    quote'");
        ERR_EQ("[Container]\nImage=x\nExec=a\\qb\n", "DIR/web.container:3: invalid escape sequence '\\q' in 'a\\qb'");
        ERR_EQ("[Container]\nImage=x\nGroup=web\n",
               "DIR/web.container:3: Group= needs User= (the group applies to that user)");
        ERR_EQ("[Container]\nImage=x\nPull=sometimes\n",
               "DIR/web.container:3: invalid pull policy: 'sometimes' (use missing, always, never or newer)");
        ERR_EQ("[Container]\nImage=x\nStopTimeout=soon\n",
               "DIR/web.container:3: invalid stop timeout: 'soon' (use a number of seconds)");
        ERR_EQ("[Container]\nImage=x\nAddCapability=CAP_CHOWN FROB\n",
               "DIR/web.container:3: unknown capability: \"CAP_FROB\"");
        ERR_EQ("[Container]\nImage=x\nEnvironment=NOEQUALS\n",
               "DIR/web.container:3: invalid environment assignment: 'NOEQUALS' (use NAME=VALUE)");
        ERR_EQ("[Container]\nImage=x\nWorkingDir=srv\n",
               "DIR/web.container:3: invalid working directory: 'srv' (it must be an absolute path)");
        ERR_EQ("[Container]\nImage=x\nContainerName=bad name\n",
               "DIR/web.container:3: invalid container name: 'bad name' (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed)");
        ERR_EQ("[Container]\nImage=x\n[Install]\nAlias=foo.service\n",
               "DIR/web.container:4: [Install] Alias= is not supported in definition files (generated units can "
               "only use WantedBy=, RequiredBy=, UpheldBy= and DefaultInstance=)");
        ERR_EQ("[Container]\nImage=x\n[Install]\nWantedBy=multi-user.target ../etc\n",
               "DIR/web.container:4: invalid unit name in WantedBy=: '../etc'");

        /* a missing file, a bad name */
        struct definition *d = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(definition_load("/nonexistent/x.container", "x", &d, &err), 0);
        ck_assert(startswith(err->msg, "open `/nonexistent/x.container`"));
        berth_error_free(&err);
        ck_assert_int_lt(definition_load("/tmp/-x.container", "-x", &d, &err), 0);
        ck_assert(startswith(err->msg, "/tmp/-x.container: invalid definition name '-x'"));
        ck_assert(!definition_name_valid("a b"));
        ck_assert(!definition_name_valid(""));
        ck_assert(definition_name_valid("web-1.example_2"));
}
END_TEST

START_TEST(test_quadlet_file)
{
        cleanup_definition struct definition *d = load_named("quad", "[Unit]\n"
                                                                     "Description=Quadlet file\n"
                                                                     "\n"
                                                                     "[Container]\n"
                                                                     "Image=busybox\n"
                                                                     "ContainerName=quad\n"
                                                                     "Exec=sleep 1000\n"
                                                                     "Environment=FOO=bar\n"
                                                                     "WorkingDir=/tmp\n"
                                                                     "User=nobody\n"
                                                                     "HostName=quadhost\n"
                                                                     "ReadOnly=true\n"
                                                                     "DropCapability=ALL\n"
                                                                     "AddCapability=CAP_NET_BIND_SERVICE\n"
                                                                     "NoNewPrivileges=true\n"
                                                                     "Label=app=quad\n"
                                                                     "Tmpfs=/scratch\n"
                                                                     "PublishPort=8080:80\n"
                                                                     "Volume=/srv:/srv:Z\n"
                                                                     "Network=host\n"
                                                                     "Pull=always\n"
                                                                     "Notify=no\n"
                                                                     "StopTimeout=5\n"
                                                                     "Ulimit=nofile=1000:10000\n"
                                                                     "\n"
                                                                     "[Service]\n"
                                                                     "Restart=always\n"
                                                                     "TimeoutStartSec=900\n"
                                                                     "\n"
                                                                     "[Install]\n"
                                                                     "WantedBy=default.target\n");
        ck_assert_str_eq(d->image, "busybox");
        STRV_EQ(d->command, "sleep", "1000");
        STRV_EQ(d->install_lines, "WantedBy=default.target");
        STRV_EQ(d->service_lines, "Restart=always", "TimeoutStartSec=900");
        ck_assert(strv_contains(d->run_args, "--cap-drop"));
}
END_TEST

/* ---- the drop-in ---------------------------------------------------------------------- */

START_TEST(test_dropin)
{
        cleanup_definition struct definition *d = load_ok("[Unit]\n"
                                                          "Description=my web server\n"
                                                          "[Container]\n"
                                                          "Image=nginx:latest\n"
                                                          "PublishPort=8080:80\n"
                                                          "Memory=512M\n"
                                                          "PidsLimit=100\n"
                                                          "StopTimeout=20\n"
                                                          "Notify=yes\n"
                                                          "[Service]\n"
                                                          "TasksMax=200\n"
                                                          "ExecStartPre=/bin/date +%%s\n"
                                                          "Restart=on-failure\n"
                                                          "[Install]\n"
                                                          "WantedBy=multi-user.target\n");
        cleanup_free char *text = definition_dropin(d);
        cleanup_free char *hdr = xasprintf("# Generated by berth-generator from %s: edit that file, then run", d->path);
        ck_assert_int_eq(line_at(text, hdr), 0);
        cleanup_free char *src = xasprintf("SourcePath=%s", d->path);
        cleanup_free char *env = xasprintf("Environment=BERTH_DEFINITION=%s", d->path);
        long unit = line_at(text, "[Unit]"), service = line_at(text, "[Service]");
        ck_assert_int_gt(unit, 0);
        ck_assert_int_gt(service, unit);
        long desc = line_at(text, "Description=berth container web (nginx:latest)");
        long own_desc = line_at(text, "Description=my web server");
        ck_assert_int_gt(desc, unit);
        ck_assert_int_gt(own_desc, desc); /* the definition's own wins */
        ck_assert_int_lt(own_desc, service);
        ck_assert_int_gt(line_at(text, src), unit);
        ck_assert_int_gt(line_at(text, "After=network-online.target"), unit);
        ck_assert_int_gt(line_at(text, "Wants=network-online.target"), unit);
        ck_assert_int_gt(line_at(text, env), service);
        ck_assert_int_gt(line_at(text, "SyslogIdentifier=web"), service);
        ck_assert_int_gt(line_at(text, "LogExtraFields=CONTAINER_ID=413ac13a2341"), service);
        ck_assert_int_gt(line_at(text, "LogExtraFields=CONTAINER_ID_FULL="
                                       "413ac13a234177b57cad26034582adc42ea503720a62775ec3fee8bfabb5c070"),
                         service);
        ck_assert_int_gt(line_at(text, "LogExtraFields=CONTAINER_NAME=web"), service);
        ck_assert_int_gt(line_at(text, "LogExtraFields=IMAGE_NAME=nginx:latest"), service);
        ck_assert_int_gt(line_at(text, "LogExtraFields=CONTAINER_TAG=413ac13a2341"), service);
        long mem = line_at(text, "MemoryMax=536870912");
        ck_assert_int_gt(mem, service);
        ck_assert_int_gt(line_at(text, "TasksMax=100"), service);
        ck_assert_int_gt(line_at(text, "TimeoutStopSec=20"), service);
        ck_assert_int_gt(line_at(text, "NotifyAccess=all"), service);
        /* [Service] passthrough after the generated lines, as written */
        long own_tasks = line_at(text, "TasksMax=200");
        ck_assert_int_gt(own_tasks, line_at(text, "TasksMax=100"));
        ck_assert_int_gt(own_tasks, line_at(text, "NotifyAccess=all"));
        ck_assert_int_gt(line_at(text, "ExecStartPre=/bin/date +%%s"), own_tasks);
        ck_assert_int_gt(line_at(text, "Restart=on-failure"), own_tasks);
        /* [Install] is links, not drop-in lines */
        ck_assert_int_lt(line_at(text, "[Install]"), 0);
        ck_assert_int_lt(line_at(text, "WantedBy=multi-user.target"), 0);

        /* without published ports: no network ordering; no notify, no timeout */
        cleanup_definition struct definition *e = load_named("db", "[Container]\nImage=postgres\nContainerName=pg\n");
        cleanup_free char *t2 = definition_dropin(e);
        ck_assert_int_lt(line_at(t2, "After=network-online.target"), 0);
        ck_assert_int_lt(line_at(t2, "NotifyAccess=all"), 0);
        ck_assert_ptr_null(strstr(t2, "TimeoutStopSec="));
        ck_assert_int_ge(line_at(t2, "SyslogIdentifier=pg"), 0);
        ck_assert_int_ge(line_at(t2, "LogExtraFields=CONTAINER_NAME=pg"), 0);
        ck_assert_int_ge(line_at(t2, "Description=berth container db (postgres)"), 0);
}
END_TEST

START_TEST(test_dropin_quoting)
{
        cleanup_free char *dir = xasprintf("%s/with space%%", tmpdir);
        ck_assert_int_eq(mkdir_p(dir, 0755, NULL), 0);
        cleanup_free char *path = xasprintf("%s/web.container", dir);
        const char *text = "[Container]\nImage=x\n";
        ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0644, NULL), 0);
        cleanup_definition struct definition *d = NULL;
        ck_assert_int_eq(definition_load(path, "web", &d, NULL), 0);
        cleanup_free char *t = definition_dropin(d);
        cleanup_free char *src = xasprintf("SourcePath=%s/with space%%%%/web.container", tmpdir);
        cleanup_free char *env = xasprintf("Environment=\"BERTH_DEFINITION=%s/with space%%%%/web.container\"", tmpdir);
        ck_assert_int_ge(line_at(t, src), 0);
        ck_assert_int_ge(line_at(t, env), 0);
}
END_TEST

START_TEST(test_container_id)
{
        cleanup_free char *a = definition_container_id("web");
        cleanup_free char *b = definition_container_id("web");
        cleanup_free char *c = definition_container_id("db");
        ck_assert_str_eq(a, "413ac13a234177b57cad26034582adc42ea503720a62775ec3fee8bfabb5c070");
        ck_assert_str_eq(a, b);
        ck_assert_str_ne(a, c);
        ck_assert_uint_eq(strlen(c), 64);
}
END_TEST

/* ---- generator output ---------------------------------------------------------------- */

static char *read_link(const char *path)
{
        char buf[PATH_MAX];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return NULL;
        buf[n] = '\0';
        return xstrdup(buf);
}

START_TEST(test_generate)
{
        cleanup_definition struct definition *d = load_ok("[Container]\n"
                                                          "Image=busybox\n"
                                                          "Memory=64M\n"
                                                          "[Install]\n"
                                                          "WantedBy=foo.target\n"
                                                          "WantedBy=\n"
                                                          "WantedBy=multi-user.target default.target\n"
                                                          "RequiredBy=app.target\n"
                                                          "UpheldBy=up.target\n");
        cleanup_strv char **links = definition_install_links(d);
        STRV_EQ(links, "multi-user.target.wants/container@web.service", "default.target.wants/container@web.service",
                "app.target.requires/container@web.service", "up.target.upholds/container@web.service");

        cleanup_free char *out = xasprintf("%s/gen", tmpdir);
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(definition_generate(d, out, &err), 0);
        /* twice: the links and the file are replaced, not an error */
        ck_assert_int_eq(definition_generate(d, out, &err), 0);
        cleanup_free char *dropin = xasprintf("%s/container@web.service.d/50-berth.conf", out);
        cleanup_free char *got = NULL;
        ck_assert_int_eq(read_file(dropin, &got, NULL, NULL), 0);
        cleanup_free char *want = definition_dropin(d);
        ck_assert_str_eq(got, want);
        ck_assert_int_ge(line_at(got, "MemoryMax=67108864"), 0);
        cleanup_free char *path_of = definition_dropin_path(d, out);
        ck_assert_str_eq(path_of, dropin);

        for (size_t i = 0; links[i]; i++) {
                cleanup_free char *l = xasprintf("%s/%s", out, links[i]);
                cleanup_free char *target = read_link(l);
                ck_assert_msg(target != NULL, "no link %s", l);
                ck_assert_str_eq(target, DEFINITION_TEMPLATE_UNIT);
        }
        cleanup_free char *foo = xasprintf("%s/foo.target.wants", out);
        ck_assert_int_lt(access(foo, F_OK), 0);

        /* what --dry-run prints */
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        definition_print(d, "/run/systemd/generator", f);
        fclose(f);
        ck_assert_int_eq(line_at(buf, "# /run/systemd/generator/container@web.service.d/50-berth.conf"), 0);
        cleanup_free char *ln = xasprintf("# /run/systemd/generator/multi-user.target.wants/container@web.service -> %s",
                                          DEFINITION_TEMPLATE_UNIT);
        ck_assert_int_gt(line_at(buf, ln), 0);
        ck_assert_int_gt(line_at(buf, "MemoryMax=67108864"), 0);
        free(buf);
}
END_TEST

/* ---- the search path ------------------------------------------------------------------- */

struct reports {
        char **msgs;
};

static void collect(const char *msg, void *ud)
{
        struct reports *r = ud;
        strv_push(&r->msgs, msg);
}

START_TEST(test_load_all)
{
        free(write_def("etc", "good", "[Container]\nImage=from-etc\n"));
        free(write_def("etc", "bad", "[Container]\nImage=x\nFrobnicate=yes\n"));
        free(write_def("usr", "good", "[Container]\nImage=from-usr\n"));
        free(write_def("usr", "bad", "[Container]\nImage=good-but-shadowed\n"));
        free(write_def("usr", "other", "[Container]\nImage=other\n"));
        free(write_def("usr", "masked", "[Container]\nImage=masked\n"));
        cleanup_free char *mask = xasprintf("%s/etc/masked.container", tmpdir);
        ck_assert_int_eq(symlink("/dev/null", mask), 0);
        cleanup_free char *notdef = xasprintf("%s/etc/README", tmpdir);
        ck_assert_int_eq(write_file_atomic(notdef, "x", 1, 0644, NULL), 0);
        cleanup_free char *path = xasprintf("%s/etc:%s/run-missing:%s/usr", tmpdir, tmpdir, tmpdir);
        setenv("BERTH_DEFINITION_PATH", path, 1);

        struct definition **v = NULL;
        size_t n = 0;
        struct reports r = { NULL };
        int bad = definition_load_all(&v, &n, collect, &r);
        ck_assert_int_eq(bad, 1);
        ck_assert_uint_eq(strv_length(r.msgs), 1);
        cleanup_free char *want = xasprintf("%s/etc/bad.container:3: unknown key 'Frobnicate' in section [Container]",
                                            tmpdir);
        ck_assert_str_eq(r.msgs[0], want);
        strv_free(r.msgs);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(v[0]->name, "good");
        ck_assert_str_eq(v[0]->image, "from-etc");
        ck_assert_str_eq(v[1]->name, "other");
        definitions_free(v, n);

        /* definition_find: the earliest directory wins, masks and misses are errors */
        cleanup_free char *found = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(definition_find("good", &found, &err), 0);
        cleanup_free char *etc_good = xasprintf("%s/etc/good.container", tmpdir);
        ck_assert_str_eq(found, etc_good);
        char *p = NULL;
        ck_assert_int_lt(definition_find("masked", &p, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "masked"));
        berth_error_free(&err);
        ck_assert_int_lt(definition_find("nothere", &p, &err), 0);
        ck_assert(startswith(err->msg, "no definition nothere.container in "));
        berth_error_free(&err);
        ck_assert_int_lt(definition_find("../etc", &p, &err), 0);
        ck_assert_ptr_null(p);

        /* an empty search path: nothing, nothing bad */
        setenv("BERTH_DEFINITION_PATH", "/nonexistent-berth-dir", 1);
        ck_assert_int_eq(definition_load_all(&v, &n, collect, &r), 0);
        ck_assert_uint_eq(n, 0);
        definitions_free(v, n);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("definition");
        TCase *tc = tcase_create("syntax");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_syntax);
        tcase_add_test(tc, test_userns_keys);
        tcase_add_test(tc, test_escaped_backslash_is_not_continuation);
        tcase_add_test(tc, test_quotes);
        tcase_add_test(tc, test_several_networks);
        tcase_add_test(tc, test_exec_last_wins);
        tcase_add_test(tc, test_empty_assignment_resets);
        tcase_add_test(tc, test_specifiers);
        tcase_add_test(tc, test_booleans);
        suite_add_tcase(s, tc);
        tc = tcase_create("keys");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_run_args);
        tcase_add_test(tc, test_health_keys);
        tcase_add_test(tc, test_ulimit);
        tcase_add_test(tc, test_limit_keys);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_quadlet_file);
        suite_add_tcase(s, tc);
        tc = tcase_create("generator");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_dropin);
        tcase_add_test(tc, test_dropin_quoting);
        tcase_add_test(tc, test_container_id);
        tcase_add_test(tc, test_generate);
        tcase_add_test(tc, test_load_all);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
