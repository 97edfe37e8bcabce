/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct HostAddr {
        int family;                        /* AF_INET or AF_INET6 */
        char address[INET6_ADDRSTRLEN];    /* "10.0.0.5", "fd00::5" */
        char network[INET6_ADDRSTRLEN + 4]; /* "10.0.0.0/24" */
        char iface[IF_NAMESIZE];
        unsigned prefix;
        bool loopback;
} HostAddr;

/*
 * The address Patroni should advertise: the first global address of the
 * default route's interface (IPv4 first, then IPv6), else the first global
 * address of any interface, else loopback (ret->loopback set).
 */
int hostinfo_default_address(HostAddr *ret);

/* Up to MAX global (not loopback, not link-local) addresses of this host's interfaces, each once. */
size_t hostinfo_global_addresses(char (*ret)[INET6_ADDRSTRLEN], size_t max);

/* The interface and prefix of the local network containing ADDRESS, if any. */
int hostinfo_address_network(const char *address, HostAddr *ret);

/* Parse "A" (v4, v6 or "[v6]") into canonical text; family in *ret_family. */
int hostinfo_parse_address(const char *s, char *buf, size_t size, int *ret_family);

/* Parse "A/P" into canonical "network/P" (host bits cleared). */
int hostinfo_parse_network(const char *s, char *buf, size_t size);

/* Format a network from an address and prefix length. */
int hostinfo_network_of(int family, const void *addr, unsigned prefix, char *buf, size_t size);
