/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>

#include "hostinfo.h"
#include "testutil.h"

START_TEST(test_network_of) {
        char buf[64];
        struct in_addr a4;
        struct in6_addr a6;

        inet_pton(AF_INET, "10.1.2.3", &a4);
        ck_assert_int_eq(hostinfo_network_of(AF_INET, &a4, 24, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "10.1.2.0/24");
        ck_assert_int_eq(hostinfo_network_of(AF_INET, &a4, 20, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "10.1.0.0/20");
        ck_assert_int_eq(hostinfo_network_of(AF_INET, &a4, 32, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "10.1.2.3/32");
        ck_assert_int_eq(hostinfo_network_of(AF_INET, &a4, 33, buf, sizeof(buf)), -EINVAL);
        inet_pton(AF_INET6, "fd00:1:2:3::5", &a6);
        ck_assert_int_eq(hostinfo_network_of(AF_INET6, &a6, 64, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "fd00:1:2:3::/64");
}
END_TEST

START_TEST(test_parse) {
        char buf[64];
        int family;

        ck_assert_int_eq(hostinfo_parse_address("10.0.0.5", buf, sizeof(buf), &family), 0);
        ck_assert_str_eq(buf, "10.0.0.5");
        ck_assert_int_eq(family, AF_INET);
        ck_assert_int_eq(hostinfo_parse_address("[FD00:0::5]", buf, sizeof(buf), &family), 0);
        ck_assert_str_eq(buf, "fd00::5");
        ck_assert_int_eq(family, AF_INET6);
        ck_assert_int_eq(hostinfo_parse_address("10.0.0.256", buf, sizeof(buf), NULL), -EINVAL);
        ck_assert_int_eq(hostinfo_parse_address("host.example", buf, sizeof(buf), NULL), -EINVAL);
        ck_assert_int_eq(hostinfo_parse_address("", buf, sizeof(buf), NULL), -EINVAL);

        ck_assert_int_eq(hostinfo_parse_network("10.0.0.5/24", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "10.0.0.0/24");
        ck_assert_int_eq(hostinfo_parse_network("fd00::/64", buf, sizeof(buf)), 0);
        ck_assert_int_eq(hostinfo_parse_network("10.0.0.0", buf, sizeof(buf)), -EINVAL);
        ck_assert_int_eq(hostinfo_parse_network("10.0.0.0/33", buf, sizeof(buf)), -EINVAL);
        ck_assert_int_eq(hostinfo_parse_network("10.0.0.0/", buf, sizeof(buf)), -EINVAL);
        ck_assert_int_eq(hostinfo_parse_network("x/8", buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(test_default_address) {
        HostAddr a, b;
        char canon[64];

        /* Whatever this machine has, the answer is a parseable address inside its own network. */
        ck_assert_int_eq(hostinfo_default_address(&a), 0);
        ck_assert_int_eq(hostinfo_parse_address(a.address, canon, sizeof(canon), NULL), 0);
        ck_assert_str_eq(canon, a.address);
        ck_assert(a.family == AF_INET || a.family == AF_INET6);
        if (!a.loopback) {
                ck_assert_int_eq(hostinfo_address_network(a.address, &b), 0);
                ck_assert_str_eq(b.network, a.network);
                ck_assert_str_eq(b.iface, a.iface);
        }
        ck_assert_int_eq(hostinfo_address_network("not-an-ip", &b), -EINVAL);
}
END_TEST

int main(void) {
        Suite *s = suite_create("hostinfo");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_network_of);
        tcase_add_test(tc, test_parse);
        tcase_add_test(tc, test_default_address);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
