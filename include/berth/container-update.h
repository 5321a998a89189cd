/* berth — `update`: new resource limits and restart policy for existing
 * containers, and the record's limits as start and inspect read them.
 *
 * A container's limits are config.json's Berth.Limits, limit flag (limits.h)
 * → value text as given ("memory": "512m", "restart": "on-failure:3"), the
 * same object `run` writes; each start turns it into the unit's properties.
 * HostConfig's Memory, NanoCpus, RestartPolicy... are derived from it for
 * `docker inspect` readers.  An update takes values in the same form:
 *
 *     json_t *limits = json_pack("{s:s}", "memory", "1g");
 *     container_update_check_values(limits, err);  // the values alone
 *     container_update_check(c, limits, err);      // with c's own limits
 *     container_update(bus, c, limits, err);       // record + running unit
 *
 * As Docker's update, a 0 leaves a limit as it is (its flags cannot tell 0
 * from not given) and so does an empty --cpuset-cpus or --restart;
 * --pids-limit 0 or -1 and --memory-swap -1 make them unlimited. */
#ifndef BERTH_CONTAINER_UPDATE_H
#define BERTH_CONTAINER_UPDATE_H

#include <jansson.h>
#include <systemd/sd-bus.h>

#include "berth/container.h"
#include "berth/error.h"
#include "berth/limits.h"

/* A Berth.Limits object into *l (zeroed by the caller; limits_free() it
 * even on error): each value as `run` parses it.  Keys that are not limit
 * flags, and values that are not strings, are skipped. */
int container_limits_parse(json_t *limits, struct limits *l, berth_error_t *err);

/* Set config.json's HostConfig Memory, MemoryReservation, MemorySwap (the
 * total; Docker's default twice the memory), NanoCpus, CpuShares,
 * CpusetCpus, PidsLimit (null: unlimited), BlkioWeight and RestartPolicy
 * from its Berth.Limits. */
int container_host_config_limits(json_t *config, berth_error_t *err);

/* Each value parsed alone, the error naming its flag.  Only the limits an
 * update can change are taken: not the device rates (lists). */
int container_update_check_values(json_t *limits, berth_error_t *err);

/* Would c take the change?  Refused: a definition container (its limits
 * are its file's: "container web comes from FILE: change Memory= there"), a
 * restart policy other than "no" for an --rm container (as Docker), limits
 * that do not hold together with c's own (--memory over its --memory-swap).
 * Changes nothing. */
int container_update_check(struct berth_container *c, json_t *limits, berth_error_t *err);

/* Under the container's lock, on a fresh copy of its record: check again,
 * merge the limits into Berth.Limits and HostConfig, write config.json, and
 * give a unit systemd has loaded (the container runs, or is between
 * restarts) the new limits with SetUnitProperties, all or none; if systemd
 * refuses, the record is put back.  The restart policy of a loaded unit
 * cannot change (systemd takes Restart= only when the unit is made): it
 * applies from the next start, which is said with berth_warn().  c's
 * config is replaced by the new one. */
int container_update(sd_bus *bus, struct berth_container *c, json_t *limits, berth_error_t *err);

#endif
