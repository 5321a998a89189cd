/* berth — devices: Docker's device confinement as systemd unit properties.
 *
 * A container's unit gets DevicePolicy=strict and DeviceAllow= entries for
 * exactly what Docker's default allows: read/write/mknod of /dev/null, zero,
 * full, random, urandom, tty, console, ptmx and the pts (char-pts), and
 * mknod ("m") of any char or block node without read or write.  --device
 * adds one node (made inside the container too) and its rule,
 * --device-cgroup-rule a raw rule, --privileged lifts the policy.  systemd
 * applies the properties to the unit's cgroup, on cgroup v1 (devices.list)
 * and v2 (a BPF program) alike, and `berth exec` joins that cgroup. */
#ifndef BERTH_DEVICES_H
#define BERTH_DEVICES_H

#include <stdbool.h>

#include <jansson.h>

#include "berth/error.h"
#include "berth/limits.h"

/* --device HOST[:CONTAINER][:PERMS]: PERMS a non-empty subset of "rwm"
 * (default "rwm"), CONTAINER absolute (default HOST), HOST made absolute
 * against the working directory. */
struct device_map {
        char *host;
        char *container;
        char perms[4];
};
int device_map_parse(const char *spec, struct device_map *out, berth_error_t *err);
/* The host path is a char or block device node (now). */
int device_map_check(const struct device_map *d, berth_error_t *err);
void device_map_clear(struct device_map *d);
/* Docker's HostConfig.Devices entry: PathOnHost, PathInContainer, CgroupPermissions. */
json_t *device_map_to_json(const struct device_map *d);

/* --device-cgroup-rule "TYPE MAJOR:MINOR ACCESS" (TYPE a, b or c; MAJOR and
 * MINOR a number or "*"; ACCESS a subset of "rwm"). */
int device_cgroup_rule_check(const char *rule, berth_error_t *err);

/* The unit properties of a container from its HostConfig (Privileged,
 * Devices, DeviceCgroupRules), appended to *out.  systemd's DeviceAllow=
 * takes paths and driver groups, not numbers: a rule "c 1:3 rw" is given as
 * a host node with that number, "c 7:* rw" as the groups /proc/devices
 * names for major 7, "c *:* m" as "char-*". */
int devices_to_props(json_t *host_config, struct unit_props *out, berth_error_t *err);

#endif
