/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Certificates made here with libcrypto: an IP and a DNS name, a short life, and files that are none. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "tlscert.h"

static char *root;
static int rootfd = -1;

/* A self-signed certificate valid for DAYS, naming SAN (e.g. "IP:10.0.0.5,DNS:db1"), at REL below the root. */
static void make_cert(const char *rel, const char *san, long days) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        X509 *x = X509_new();
        X509V3_CTX ctx;
        X509_EXTENSION *ext;
        char path[4200];
        FILE *f;

        ck_assert_ptr_nonnull(key);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), days * 24 * 3600);
        X509_set_pubkey(x, key);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *) "t", -1, -1,
                                   0);
        X509_set_issuer_name(x, X509_get_subject_name(x));
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        ck_assert_ptr_nonnull(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        PEM_write_X509(f, x);
        fclose(f);
        X509_free(x);
        EVP_PKEY_free(key);
}

static void setup(void) {
        root = tmp_root();
        rootfd = tmp_rootfd(root);
}

static void teardown(void) {
        close(rootfd);
        tmp_root_remove(root);
}

START_TEST(test_dates_and_names) {
        TlsCert c;
        char *error = NULL;
        time_t now = time(NULL);

        make_cert("a.pem", "IP:10.0.0.5,DNS:db1.example", 10);
        ck_assert_int_eq(tlscert_load(rootfd, "/a.pem", &c, &error), 0);
        ck_assert(c.not_after > now + 9 * 24 * 3600 && c.not_after <= now + 10 * 24 * 3600 + 60);
        ck_assert_str_eq(c.subject, "/CN=t");
        ck_assert_int_eq(tlscert_names_host(rootfd, "/a.pem", "10.0.0.5"), 1);
        ck_assert_int_eq(tlscert_names_host(rootfd, "/a.pem", "db1.example"), 1);
        ck_assert_int_eq(tlscert_names_host(rootfd, "/a.pem", "10.0.0.6"), 0);
        ck_assert_int_eq(tlscert_names_host(rootfd, "/a.pem", "db2.example"), 0);
        make_cert("v6.pem", "IP:fd00::5", 400);
        ck_assert_int_eq(tlscert_names_host(rootfd, "/v6.pem", "fd00::5"), 1);
        ck_assert_int_eq(tlscert_names_host(rootfd, "/v6.pem", "fd00::6"), 0);
}
END_TEST

START_TEST(test_not_certificates) {
        TlsCert c;
        char *error = NULL;

        tmp_write(root, "junk.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        ck_assert_int_eq(tlscert_load(rootfd, "/junk.pem", &c, &error), -EINVAL);
        ck_assert_str_eq(error, "/junk.pem holds no PEM certificate");
        free(error);
        ck_assert_int_eq(tlscert_load(rootfd, "/none.pem", &c, &error), -ENOENT);
        ck_assert_int_eq(tlscert_names_host(rootfd, "/junk.pem", "h"), -EINVAL);
}
END_TEST

START_TEST(test_host_of) {
        char h[64];
        ck_assert_int_eq(tlscert_host_of("10.0.0.5:8008", h, sizeof(h)), 0);
        ck_assert_str_eq(h, "10.0.0.5");
        ck_assert_int_eq(tlscert_host_of("[fd00::5]:8008", h, sizeof(h)), 0);
        ck_assert_str_eq(h, "fd00::5");
        ck_assert_int_eq(tlscert_host_of("db1:5432", h, sizeof(h)), 0);
        ck_assert_str_eq(h, "db1");
        ck_assert_int_eq(tlscert_host_of("nohost", h, sizeof(h)), -EINVAL);
        ck_assert_int_eq(tlscert_host_of(":5432", h, sizeof(h)), -EINVAL);
}
END_TEST

int main(void) {
        Suite *s = suite_create("tlscert");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_dates_and_names);
        tcase_add_test(tc, test_not_certificates);
        tcase_add_test(tc, test_host_of);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
