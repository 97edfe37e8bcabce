/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "units.h"

struct ev_loop;
typedef struct sd_bus sd_bus;

/*
 * systemd over D-Bus. The system bus is the one sd_bus_open_system() finds
 * ($DBUS_SYSTEM_BUS_ADDRESS, else the well-known socket).
 */

/*
 * The daemon's unit backend, on its libev loop. Calls are asynchronous; each
 * job's result (JobRemoved) is logged with its unit and cluster. A start is
 * preceded by ResetFailedUnit; a reload is ReloadOrRestartUnit (a stopped
 * unit is started). Unit states come from ListUnitsByPatterns and job
 * results. If the bus goes away, requests wait and are sent again after
 * reconnecting (with backoff); when systemd re-executes, the subscription
 * and states are renewed and requests in flight are sent again.
 */
int bus_units_new(struct ev_loop *loop, UnitBackend **ret);

/* For one-shot callers (the CLI): ActiveState of UNIT into BUF ("active", "inactive", ...). */
int bus_open_system(sd_bus **ret);
int bus_unit_active_state(sd_bus *bus, const char *unit, char *buf, size_t size);
sd_bus *bus_close(sd_bus *bus);
/* ReloadUnit UNIT if it is active: 1 reloaded (the job queued), 0 not active, -errno. */
int bus_unit_reload_if_active(sd_bus *bus, const char *unit);
