/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "hostinfo.h"
#include "macro.h"

static unsigned prefix_of(int family, const struct sockaddr *mask) {
        const uint8_t *b;
        size_t n;
        unsigned p = 0;

        if (!mask)
                return family == AF_INET ? 32 : 128;
        if (family == AF_INET) {
                b = (const uint8_t *) mask + offsetof(struct sockaddr_in, sin_addr);
                n = 4;
        } else {
                b = (const uint8_t *) mask + offsetof(struct sockaddr_in6, sin6_addr);
                n = 16;
        }
        for (size_t i = 0; i < n; i++)
                p += (unsigned) __builtin_popcount(b[i]);
        return p;
}

int hostinfo_network_of(int family, const void *addr, unsigned prefix, char *buf, size_t size) {
        uint8_t a[16];
        size_t n = family == AF_INET ? 4 : 16;
        char txt[INET6_ADDRSTRLEN];

        if (prefix > n * 8)
                return -EINVAL;
        memcpy(a, addr, n);
        for (size_t i = 0; i < n; i++) {
                unsigned bits = prefix > i * 8 ? prefix - (unsigned) i * 8 : 0;
                if (bits < 8)
                        a[i] &= (uint8_t) (0xff00 >> bits);
        }
        if (!inet_ntop(family, a, txt, sizeof(txt)))
                return negative_errno();
        if ((size_t) snprintf(buf, size, "%s/%u", txt, prefix) >= size)
                return -ENOBUFS;
        return 0;
}

static bool is_global(int family, const void *addr) {
        if (family == AF_INET) {
                uint32_t a = ntohl(((const struct in_addr *) addr)->s_addr);
                return (a >> 24) != 127 && (a >> 16) != 0xa9fe && a != 0; /* not loopback or link-local */
        }
        const struct in6_addr *a6 = addr;
        return !IN6_IS_ADDR_LOOPBACK(a6) && !IN6_IS_ADDR_LINKLOCAL(a6) && !IN6_IS_ADDR_UNSPECIFIED(a6) &&
               !IN6_IS_ADDR_V4MAPPED(a6);
}

/* The address inside SA, reached by offset: struct sockaddr is less aligned than the family's struct. */
static const void *sa_addr(const struct sockaddr *sa) {
        return (const uint8_t *) sa +
               (sa->sa_family == AF_INET ? offsetof(struct sockaddr_in, sin_addr) : offsetof(struct sockaddr_in6, sin6_addr));
}

static int fill(HostAddr *ret, const struct ifaddrs *i) {
        int family = i->ifa_addr->sa_family;
        const void *a = sa_addr(i->ifa_addr);

        *ret = (HostAddr){ .family = family, .prefix = prefix_of(family, i->ifa_netmask) };
        if (!inet_ntop(family, a, ret->address, sizeof(ret->address)))
                return negative_errno();
        snprintf(ret->iface, sizeof(ret->iface), "%s", i->ifa_name);
        ret->loopback = !is_global(family, a);
        return hostinfo_network_of(family, a, ret->prefix, ret->network, sizeof(ret->network));
}

/* The interface of the default route for FAMILY, from /proc/net/route or /proc/net/ipv6_route. */
static bool default_route_iface(int family, char iface[static IF_NAMESIZE]) {
        _cleanup_fclose_ FILE *f = fopen(family == AF_INET ? "/proc/net/route" : "/proc/net/ipv6_route", "re");
        char line[512];

        if (!f)
                return false;
        while (fgets(line, sizeof(line), f)) {
                char name[IF_NAMESIZE], dest[33], mask[33];
                unsigned plen;
                if (family == AF_INET) {
                        if (sscanf(line, "%15s %32s %*s %*s %*s %*s %*s %32s", name, dest, mask) == 3 &&
                            streq(dest, "00000000") && streq(mask, "00000000") && !streq(name, "lo"))
                                goto found;
                } else if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %15s", dest, &plen, name) == 3 &&
                           plen == 0 && strspn(dest, "0") == 32 && !streq(name, "lo"))
                        goto found;
                continue;
        found:
                snprintf(iface, IF_NAMESIZE, "%s", name);
                return true;
        }
        return false;
}

int hostinfo_default_address(HostAddr *ret) {
        struct ifaddrs *ifa = NULL;
        const struct ifaddrs *best = NULL, *loop = NULL;
        static const int families[] = { AF_INET, AF_INET6 };
        int r;

        if (getifaddrs(&ifa) < 0)
                return negative_errno();

        /* 1. A global address on the default route's interface, IPv4 preferred. */
        for (size_t f = 0; f < ELEMENTSOF(families) && !best; f++) {
                char iface[IF_NAMESIZE];
                if (!default_route_iface(families[f], iface))
                        continue;
                for (const struct ifaddrs *i = ifa; i && !best; i = i->ifa_next)
                        if (i->ifa_addr && i->ifa_addr->sa_family == families[f] && streq(i->ifa_name, iface) &&
                            is_global(families[f], sa_addr(i->ifa_addr)))
                                best = i;
        }
        /* 2. No default route: the first global address anywhere, IPv4 first. */
        for (size_t f = 0; f < ELEMENTSOF(families) && !best; f++)
                for (const struct ifaddrs *i = ifa; i && !best; i = i->ifa_next)
                        if (i->ifa_addr && i->ifa_addr->sa_family == families[f] &&
                            is_global(families[f], sa_addr(i->ifa_addr)))
                                best = i;
        /* 3. Loopback, which the caller must warn about. */
        for (const struct ifaddrs *i = ifa; i && !best && !loop; i = i->ifa_next)
                if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
                        struct in_addr a;
                        memcpy(&a, sa_addr(i->ifa_addr), sizeof(a));
                        if (ntohl(a.s_addr) >> 24 == 127)
                                loop = i;
                }

        if (best || loop)
                r = fill(ret, best ? best : loop);
        else {
                /* Not even lo is up (a bare network namespace). */
                *ret = (HostAddr){ .family = AF_INET, .prefix = 8, .loopback = true };
                strcpy(ret->address, "127.0.0.1");
                strcpy(ret->network, "127.0.0.0/8");
                strcpy(ret->iface, "lo");
                r = 0;
        }
        freeifaddrs(ifa);
        return r;
}

int hostinfo_address_network(const char *address, HostAddr *ret) {
        struct ifaddrs *ifa = NULL;
        uint8_t want[16];
        int family = strchr(address, ':') ? AF_INET6 : AF_INET;
        int r = -ENOENT;

        if (inet_pton(family, address, want) != 1)
                return -EINVAL;
        if (getifaddrs(&ifa) < 0)
                return negative_errno();
        for (const struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                char a[INET6_ADDRSTRLEN + 4], b[INET6_ADDRSTRLEN + 4];
                unsigned p;
                if (!i->ifa_addr || i->ifa_addr->sa_family != family)
                        continue;
                p = prefix_of(family, i->ifa_netmask);
                if (hostinfo_network_of(family, sa_addr(i->ifa_addr), p, a, sizeof(a)) < 0 ||
                    hostinfo_network_of(family, want, p, b, sizeof(b)) < 0 || !streq(a, b))
                        continue;
                r = fill(ret, i);
                break;
        }
        freeifaddrs(ifa);
        return r;
}

int hostinfo_parse_address(const char *s, char *buf, size_t size, int *ret_family) {
        char tmp[INET6_ADDRSTRLEN];
        uint8_t a[16];
        size_t l = strlen(s);
        int family;

        if (l >= 2 && s[0] == '[' && s[l - 1] == ']') {
                if (l - 2 >= sizeof(tmp))
                        return -EINVAL;
                memcpy(tmp, s + 1, l - 2);
                tmp[l - 2] = 0;
                s = tmp;
        }
        family = strchr(s, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(family, s, a) != 1)
                return -EINVAL;
        if (!inet_ntop(family, a, buf, (socklen_t) size))
                return negative_errno();
        if (ret_family)
                *ret_family = family;
        return 0;
}

int hostinfo_parse_network(const char *s, char *buf, size_t size) {
        char addr[INET6_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        uint8_t a[16];
        char *end;
        unsigned long p;
        int family;

        if (!slash || (size_t) (slash - s) >= sizeof(addr))
                return -EINVAL;
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = 0;
        family = strchr(addr, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(family, addr, a) != 1)
                return -EINVAL;
        errno = 0;
        p = strtoul(slash + 1, &end, 10);
        if (errno || *end || end == slash + 1 || p > (family == AF_INET ? 32U : 128U))
                return -EINVAL;
        return hostinfo_network_of(family, a, (unsigned) p, buf, size);
}

size_t hostinfo_global_addresses(char (*ret)[INET6_ADDRSTRLEN], size_t max) {
        struct ifaddrs *ifa = NULL;
        size_t n = 0;

        if (getifaddrs(&ifa) < 0)
                return 0;
        for (const struct ifaddrs *i = ifa; i && n < max; i = i->ifa_next) {
                if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6) ||
                    !is_global(i->ifa_addr->sa_family, sa_addr(i->ifa_addr)) ||
                    !inet_ntop(i->ifa_addr->sa_family, sa_addr(i->ifa_addr), ret[n], INET6_ADDRSTRLEN))
                        continue;
                bool seen = false;
                for (size_t j = 0; j < n && !seen; j++)
                        seen = streq(ret[j], ret[n]);
                if (!seen)
                        n++;
        }
        freeifaddrs(ifa);
        return n;
}
