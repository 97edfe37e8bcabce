/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hosts' own CA and certificates: derived alike from env.conf's seed, renewed when stale, verified with OpenSSL. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "envconf.h"
#include "tlsca.h"
#include "testutil.h"

TMP_ROOT_FIXTURE("etc/patroni")

static X509 *read_cert(const char *rel) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        ck_assert_ptr_nonnull(x);
        return x;
}

static mode_t mode_of(const char *rel) {
        char path[4200];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        ck_assert_int_eq(stat(path, &st), 0);
        return st.st_mode & 07777;
}

/* Does the host certificate verify against the CA file, as a TLS client would check it? */
static bool chain_ok(void) {
        X509 *ca = read_cert("etc/patroni/tls/ca.pem"), *host = read_cert("etc/patroni/tls/host.pem");
        X509_STORE *store = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        X509_STORE_add_cert(store, ca);
        X509_STORE_CTX_init(ctx, store, host, NULL);
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
        bool ok = X509_verify_cert(ctx) == 1;
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(store);
        X509_free(ca);
        X509_free(host);
        return ok;
}

static const char *const ADDRS[] = { "10.0.0.5", "fd00::5", NULL };

static TlsCaHost host(const char *name, const char *const *addrs, size_t n) {
        return (TlsCaHost){ .hostname = name, .addresses = addrs, .n_addresses = n, .uid = geteuid(),
                            .key_gid = getegid() };
}

static X509 *pem_cert(const char *pem, size_t n) {
        BIO *b = BIO_new_mem_buf(pem, (int) n);
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        ck_assert_ptr_nonnull(x);
        return x;
}

/* The same seed: the same subject and key, so that each host's copy verifies the others' certificates. */
START_TEST(test_ca_is_the_same_everywhere) {
        char *a = NULL, *b = NULL, *c = NULL;
        size_t na, nb, nc;

        ck_assert_int_eq(tlsca_ca_pem("0123456789abcdef0123456789abcdef", &a, &na), 0);
        ck_assert_int_eq(tlsca_ca_pem("0123456789abcdef0123456789abcdef", &b, &nb), 0);
        ck_assert_int_eq(tlsca_ca_pem("0123456789abcdef0123456789abcdeX", &c, &nc), 0);
        X509 *xa = pem_cert(a, na), *xb = pem_cert(b, nb), *xc = pem_cert(c, nc);
        ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(xa), X509_get_subject_name(xb)), 0);
        ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(xa), X509_get0_pubkey(xb)), 1);
        ck_assert_int_ne(EVP_PKEY_eq(X509_get0_pubkey(xa), X509_get0_pubkey(xc)), 1);
        ck_assert_int_ne(X509_NAME_cmp(X509_get_subject_name(xa), X509_get_subject_name(xc)), 0);
        /* ECDSA with SHA-256: libpq's channel binding needs the signature's digest */
        ck_assert_int_eq(X509_get_signature_nid(xa), NID_ecdsa_with_SHA256);
        X509_free(xa);
        X509_free(xb);
        X509_free(xc);
        ck_assert_int_eq(tlsca_ca_pem("short", &c, &nc), -EINVAL);
        free(a);
        free(b);
        free(c);
}
END_TEST

START_TEST(test_ensure) {
        TlsCaHost h = host("db1", ADDRS, 2);
        char *what = NULL, *err = NULL;
        bool exists;

        /* First run: a seed in env.conf, the CA and the host's pair; the directory open to postgres even under
         * the daemon's umask. */
        mode_t old = umask(077);
        ck_assert_int_eq(tlsca_ensure(rootfd, &h, &what, &err), 1);
        umask(old);
        ck_assert_int_eq(mode_of("etc/patroni/tls"), 0755);
        ck_assert_ptr_null(err);
        ck_assert_ptr_nonnull(strstr(what, "host.pem"));
        free(what);
        char **env = envconf_read(rootfd, &exists);
        ck_assert_ptr_nonnull(envconf_get(env, TLSCA_SEED_KEY));
        envconf_free(env);
        ck_assert_int_eq(mode_of("etc/patroni/env.conf"), 0600);
        ck_assert_int_eq(mode_of("etc/patroni/tls/host.key"), 0640);
        ck_assert_int_eq(mode_of("etc/patroni/tls/host.pem"), 0644);
        ck_assert_int_eq(mode_of("etc/patroni/tls/ca.pem"), 0644);
        ck_assert(chain_ok());

        X509 *x = read_cert("etc/patroni/tls/host.pem");
        ck_assert_int_eq(X509_check_host(x, "db1", 0, 0, NULL), 1);
        ck_assert_int_eq(X509_check_host(x, "localhost", 0, 0, NULL), 1);
        ck_assert_int_eq(X509_check_ip_asc(x, "10.0.0.5", 0), 1);
        ck_assert_int_eq(X509_check_ip_asc(x, "fd00::5", 0), 1);
        ck_assert_int_eq(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
        ck_assert_int_eq(X509_check_ip_asc(x, "10.0.0.6", 0), 0);
        ck_assert_int_eq(X509_check_host(x, "db2", 0, 0, NULL), 0);
        X509_free(x);

        /* Second run: nothing to do, nothing written. */
        ck_assert_int_eq(tlsca_ensure(rootfd, &h, &what, &err), 0);
        ck_assert_ptr_null(what);

        /* A new address: a new certificate, the CA as it was. */
        const char *more[] = { "10.0.0.5", "fd00::5", "192.0.2.9", NULL };
        h = host("db1", more, 3);
        ck_assert_int_eq(tlsca_ensure(rootfd, &h, &what, &err), 1);
        ck_assert_str_eq(what, TLS_CERT_FILE ", " TLS_KEY_FILE);
        free(what);
        ck_assert(chain_ok());

        /* What is not this package's is never overwritten: said, with what to do. */
        tmp_write(root, "etc/patroni/tls/host.pem", "not a certificate\n");
        ck_assert_int_eq(tlsca_ensure(rootfd, &h, &what, &err), -EPERM);
        ck_assert_ptr_nonnull(strstr(err, "/etc/patroni/tls/host.pem is not one of this package's certificates (no "
                                          "certificate): move it away"));
        free(err);
        err = NULL;
        char *kept = tmp_read(root, "etc/patroni/tls/host.pem");
        ck_assert_str_eq(kept, "not a certificate\n");
        free(kept);
        char path[4200];
        snprintf(path, sizeof(path), "%s/etc/patroni/tls/host.pem", root);
        unlink(path);
        ck_assert_int_eq(tlsca_ensure(rootfd, &h, &what, &err), 1);
        free(what);
        ck_assert(chain_ok());

        /* Another seed (env.conf copied from the first host): another CA, the host's pair follows. */
        tmp_write(root, "etc/patroni/env.conf", TLSCA_SEED_KEY "=ffffffffffffffffffffffffffffffffffff\n");
        chmod(root, 0755);
        ck_assert_int_eq(tlsca_ensure(rootfd, &h, &what, &err), 1);
        ck_assert_ptr_nonnull(strstr(what, "ca.pem"));
        free(what);
        ck_assert(chain_ok());
        char *want = NULL;
        size_t nwant;
        ck_assert_int_eq(tlsca_ca_pem("ffffffffffffffffffffffffffffffffffff", &want, &nwant), 0);
        X509 *w = pem_cert(want, nwant), *got = read_cert("etc/patroni/tls/ca.pem");
        ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(w), X509_get0_pubkey(got)), 1);
        X509_free(w);
        X509_free(got);
        free(want);
        /* the host's certificate: ECDSA with SHA-256 too */
        X509 *hc = read_cert("etc/patroni/tls/host.pem");
        ck_assert_int_eq(X509_get_signature_nid(hc), NID_ecdsa_with_SHA256);
        X509_free(hc);
        /* and a run after that writes nothing (the CA file is recognised, not compared byte for byte) */
        ck_assert_int_eq(tlsca_ensure(rootfd, &h, &what, &err), 0);
}
END_TEST

START_TEST(test_bad_seed) {
        TlsCaHost h = host("db1", ADDRS, 2);
        char *what = NULL, *err = NULL;

        tmp_write(root, "etc/patroni/env.conf", TLSCA_SEED_KEY "=short\n");
        ck_assert_int_eq(tlsca_ensure(rootfd, &h, &what, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "/etc/patroni/env.conf: " TLSCA_SEED_KEY " is shorter than 32"));
        free(err);
        /* nothing made */
        ck_assert_int_ne(faccessat(rootfd, "etc/patroni/tls", F_OK, 0), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("tlsca");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_ca_is_the_same_everywhere);
        tcase_add_test(tc, test_ensure);
        tcase_add_test(tc, test_bad_seed);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
